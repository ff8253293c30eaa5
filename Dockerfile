# One image per service: docker build --target ingress|worker .
# Node runs the TypeScript sources directly (type stripping), so there is no build step.
FROM node:24-slim AS base
RUN npm install -g pnpm@12.21.0 && npm cache clean --force
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile --prod && rm -rf /root/.local/share/pnpm
USER node
ENV NODE_ENV=production

FROM base AS ingress
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "services/ingress/src/main.ts"]

FROM base AS worker
CMD ["node", "services/worker/src/main.ts"]
