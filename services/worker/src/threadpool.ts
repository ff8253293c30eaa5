/**
 * libuv's thread pool (file writes, fsync, DNS lookups): two threads, not four, unless
 * UV_THREADPOOL_SIZE says otherwise. Imported first by main.ts: the pool starts at its first
 * use and reads the variable then.
 *
 * Why: a download keeps up to 2 MiB of positional writes queued to one file, and four threads
 * writing into the same file beside the main thread (network, MD5) made one 1 GiB download in
 * three take 6-8 s of CPU instead of 4.5 on a 2-core machine. Over 10-24 alternating runs each,
 * 1 GiB to a directory: 4 threads 195 MiB/s (median), 2 threads 217, 1 thread 222. Not one:
 * libuv lets DNS lookups (slow work) hold at most half the pool, so with two a hanging lookup
 * never stalls the disk.
 */
// Empty counts as unset, as for every setting (compose passes `${UV_THREADPOOL_SIZE:-}`): libuv would read it as 1.
if (!process.env.UV_THREADPOOL_SIZE?.trim()) process.env.UV_THREADPOOL_SIZE = '2';
