import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface OpsRoute {
  path: string;
  method: string[];
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
}

/** Binds `server` to `port` (0: any free one) on `host` (all interfaces when unset). */
export function listen(server: Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/**
 * The HTTP server of Socket Mode, which needs no public endpoint: only /healthz and /metrics.
 * (Over HTTP the same routes are served by Bolt's receiver, next to /slack/events.)
 */
export function opsServer(routes: OpsRoute[]): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = routes.find((r) => r.path === path && r.method.includes(req.method ?? ""));
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    Promise.resolve(route.handler(req, res)).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
}

/** Stops listening and ends idle connections (a load balancer's keep-alive ones included). */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
