// Promise-based client of the engine worker. The stores use it; React components never do.
//
//   const call = client.call({ type: 'perplexity', text, seqlen: 256 }, (p) => ...);
//   client.cancel(call.id);          // the promise then rejects with Cancelled
//   const result = await call;
//
// A sweep also reports its points: client.call({ type: 'sweep', ... }, onProgress, (point) => ...).
// Generation streams its text: client.call({ type: 'generate', ... }, undefined, undefined, (t) => ...).
import { DeviceLost, errorFromWire } from '../core/errors';
import type { SweepPointResult } from '../core/jobs/sweep';
import type { Progress } from '../core/types';
import type { AnyRequest, RequestBody, RequestType, ResponseResults, WorkerEvent } from './protocol';

/** A `token` event of a generate request: the continuation so far and the new-token count. */
export interface TokenUpdate {
  text: string;
  tokens: number;
}

/** A pending request: a promise of its result that also carries the request id (for cancel). */
export type PendingCall<T extends RequestType> = Promise<ResponseResults[T]> & { readonly id: number };

interface Pending {
  resolve: (v: never) => void;
  reject: (e: Error) => void;
  onProgress?: (p: Progress) => void;
  onPoint?: (p: SweepPointResult, hfNames: Record<string, string>) => void;
  onToken?: (t: TokenUpdate) => void;
}

/** The subset of Worker the client needs (lets tests pass a fake). */
export interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<WorkerEvent>) => void): void;
  addEventListener(type: 'error', listener: (ev: ErrorEvent) => void): void;
}

export function createEngineWorker(): WorkerLike {
  return new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'prune-studio-engine' });
}

export class EngineClient {
  private readonly worker: WorkerLike;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private deviceLostListeners: ((message: string) => void)[] = [];
  private closed = false;

  constructor(worker: WorkerLike = createEngineWorker()) {
    this.worker = worker;
    worker.addEventListener('message', (ev) => this.onEvent(ev.data));
    worker.addEventListener('error', (ev) => {
      // The worker script failed to load or threw at top level: every pending call fails.
      const msg = `The engine worker crashed: ${ev.message || 'unknown error'}. Reload the page to restart it.`;
      this.failAll(new Error(msg));
    });
  }

  /**
   * Send a request. `onPoint` receives the measured points of a sweep as they arrive, `onToken` the
   * streamed text of a generation.
   */
  call<B extends RequestBody>(
    body: B,
    onProgress?: (p: Progress) => void,
    onPoint?: (p: SweepPointResult, hfNames: Record<string, string>) => void,
    onToken?: (t: TokenUpdate) => void,
  ): PendingCall<B['type']> {
    const id = this.nextId++;
    const promise = new Promise<ResponseResults[B['type']]>((resolve, reject) => {
      if (this.closed) {
        reject(new Error('The engine worker has been stopped.'));
        return;
      }
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject, onProgress, onPoint, onToken });
      this.worker.postMessage({ ...body, id } as AnyRequest);
    });
    return Object.assign(promise, { id });
  }

  /** Ask the worker to abort request `id`; its promise rejects with Cancelled. */
  cancel(id: number): void {
    if (!this.pending.has(id) || this.closed) return;
    const cid = this.nextId++;
    this.worker.postMessage({ type: 'cancel', target: id, id: cid } satisfies AnyRequest);
  }

  /** Ask the worker to pause training request `id` at its next step; its promise rejects with Paused. */
  pause(id: number): void {
    if (!this.pending.has(id) || this.closed) return;
    const cid = this.nextId++;
    this.worker.postMessage({ type: 'pause', target: id, id: cid } satisfies AnyRequest);
  }

  /** Called once per deviceLost event; returns an unsubscribe function. */
  onDeviceLost(cb: (message: string) => void): () => void {
    this.deviceLostListeners.push(cb);
    return () => {
      this.deviceLostListeners = this.deviceLostListeners.filter((x) => x !== cb);
    };
  }

  /** Stop the worker (and with it the GPU device); pending calls reject. */
  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.terminate();
    this.failAll(new Error('The engine worker has been stopped.'));
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private onEvent(ev: WorkerEvent): void {
    switch (ev.type) {
      case 'progress':
        this.pending.get(ev.id)?.onProgress?.(ev.progress);
        return;
      case 'point':
        this.pending.get(ev.id)?.onPoint?.(ev.point, ev.hfNames);
        return;
      case 'token':
        this.pending.get(ev.id)?.onToken?.({ text: ev.text, tokens: ev.tokens });
        return;
      case 'result': {
        const p = this.pending.get(ev.id);
        this.pending.delete(ev.id);
        p?.resolve(ev.result as never);
        return;
      }
      case 'error': {
        const p = this.pending.get(ev.id);
        this.pending.delete(ev.id);
        p?.reject(errorFromWire(ev.error));
        return;
      }
      case 'deviceLost': {
        for (const cb of this.deviceLostListeners) cb(ev.message);
        this.failAll(new DeviceLost(`The GPU device was lost: ${ev.message}`));
        return;
      }
    }
  }
}
