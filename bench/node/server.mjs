// The official Node.js tus server (@tus/server with @tus/file-store), for bench/upload.py.
// Usage: node server.mjs PORT DIRECTORY
import http from "node:http";
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";

const [port, directory] = process.argv.slice(2);
const tus = new Server({ path: "/files", datastore: new FileStore({ directory }) });
http
  .createServer((req, res) => tus.handle(req, res))
  .listen(Number(port), "127.0.0.1", () => console.log("ready"));
