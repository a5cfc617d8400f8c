# The Plugboard gateway. Node 24 runs the TypeScript sources directly (type stripping), so the
# image needs only the runtime dependencies. In a container, DATABASE_URL is required: the
# embedded Postgres is for local development.
# The operator console (console/, Preact and Vite) is built in a stage of its own: its build tools
# stay out of the image, its output (console/dist) goes in.
FROM node:24-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY client ./client
COPY console ./console
RUN npm run build:console

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY gateway ./gateway
COPY plugins ./plugins
COPY schema ./schema
# The codegen'd client's documents: production runs trusted documents only (PLUGBOARD_DOCUMENTS),
# these by default; mount others and list them in PLUGBOARD_TRUSTED_DOCUMENTS.
COPY client/generated/persisted-documents.json ./client/generated/
COPY --from=console /app/console/dist ./console/dist
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# V8 sized for many sockets, as `npm start` runs it (README, "Memory per socket").
CMD ["node", "--max-semi-space-size=16", "--heap-growing-percent=100", "bin/plugboard.js", "serve"]
