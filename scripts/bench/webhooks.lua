-- wrk: every request a webhook of another production (a repeat would be deduplicated: cheaper).
local charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local counter = 0
function init(args)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
end
function request()
  counter = counter + 1
  local id = {}
  for i = 1, 14 do
    local r = math.random(1, 62)
    id[i] = charset:sub(r, r)
  end
  local body = "uuid=" .. table.concat(id) .. string.format("%08d", counter % 100000000) .. "&status=3&status_string=Done"
  return wrk.format("POST", wrk.path, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
