// The calibration windows' activations entering one decoder layer at a time, as the sequential
// drivers of the published code keep them (sparsegpt's `inps`): embedded once, run through layer
// i to collect statistics, then replaced by layer i's outputs (with whatever weights layer i has
// by then) to become layer i+1's inputs. n windows × (T, hidden) f32 on the GPU.
import { TooLargeForDevice } from '../errors';
import type { CaptureFn, GpuModel, Workspace } from '../nn/model';

export class LayerInputs {
  private constructor(
    readonly model: GpuModel,
    /** One (T, hidden) buffer per window. */
    readonly windows: GPUBuffer[],
    readonly T: number,
    private readonly ws: Workspace,
  ) {}

  /** Allocate and embed the windows (all of the same length T). */
  static async embed(model: GpuModel, windows: number[][]): Promise<LayerInputs> {
    const { ctx, spec } = model;
    const T = windows[0].length;
    const n = windows.length;
    const bytes = T * spec.hidden * 4;
    const ws = model.allocate(T);
    const bufs: GPUBuffer[] = [];
    try {
      await ctx.checked('allocating calibration activations', () => {
        for (let s = 0; s < n; s++) bufs.push(ctx.storage(bytes, `calib.${s}`));
      });
    } catch (e) {
      model.release(ws);
      bufs.forEach((b) => ctx.destroy(b));
      if (e instanceof TooLargeForDevice) {
        throw new TooLargeForDevice(
          `Calibration activations need ${n} × ${T} × ${spec.hidden} × 4 bytes = ${((n * bytes) / 2 ** 20).toFixed(1)} MiB, which this GPU could not allocate. Use fewer samples or a shorter sequence length. (${e.message})`,
        );
      }
      throw e;
    }
    for (let s = 0; s < n; s++) {
      model.embed(ws, windows[s]);
      ctx.copy(ws.x, 0, bufs[s], 0, bytes);
      ctx.submit();
    }
    return new LayerInputs(model, bufs, T, ws);
  }

  /** Run decoder layer i on every window without changing the inputs; `capture(s)` sees window s's sublayer inputs. */
  run(i: number, capture: (s: number) => CaptureFn): void {
    const { ctx } = this.model;
    const bytes = this.T * this.model.spec.hidden * 4;
    for (let s = 0; s < this.windows.length; s++) {
      ctx.copy(this.windows[s], 0, this.ws.x, 0, bytes);
      this.model.layer(this.ws, i, { capture: capture(s) });
      ctx.submit();
    }
  }

  /** Replace the inputs by decoder layer i's outputs (its current weights): the next layer's inputs. */
  async advance(i: number): Promise<void> {
    const { ctx } = this.model;
    const bytes = this.T * this.model.spec.hidden * 4;
    for (const b of this.windows) {
      ctx.copy(b, 0, this.ws.x, 0, bytes);
      this.model.layer(this.ws, i);
      ctx.copy(this.ws.x, 0, b, 0, bytes);
      ctx.submit();
    }
    await ctx.finish();
  }

  release(): void {
    for (const b of this.windows) this.model.ctx.destroy(b);
    this.windows.length = 0;
    this.model.release(this.ws);
  }
}
