// The one EngineClient of the page (a module singleton, not React state). Replaced on restart
// after a lost device.
import { EngineClient } from '../worker/client';

let client: EngineClient | null = null;

export function getClient(): EngineClient {
  if (!client) client = new EngineClient();
  return client;
}

/** Stop the current worker (if any) and start a fresh one. */
export function replaceClient(): EngineClient {
  client?.terminate();
  client = new EngineClient();
  return client;
}

export function hasClient(): boolean {
  return client !== null;
}
