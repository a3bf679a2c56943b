import { useMemo } from 'react';
import type { TensorSummary } from '../core/types';
import { formatBytes, formatInt } from './format';
import { Head } from './Table';

interface Group {
  key: string;
  title: string;
  tensors: TensorSummary[];
  bytes: number;
}

const LAYER_RE = /(?:^|\.)(?:layers|layer|h|blocks|block)\.(\d+)\./;

/** Tensors grouped by decoder layer ("Layer 0", …), everything else (embeddings, norms, head) first. */
export function groupTensors(tensors: TensorSummary[]): Group[] {
  const other: TensorSummary[] = [];
  const layers = new Map<number, TensorSummary[]>();
  for (const t of tensors) {
    const m = LAYER_RE.exec(t.name);
    if (m) {
      const i = Number(m[1]);
      const list = layers.get(i) ?? [];
      list.push(t);
      layers.set(i, list);
    } else {
      other.push(t);
    }
  }
  const sum = (ts: TensorSummary[]) => ts.reduce((a, t) => a + t.bytes, 0);
  const groups: Group[] = [];
  if (other.length) groups.push({ key: 'other', title: 'Embeddings, final norm, head', tensors: other, bytes: sum(other) });
  for (const i of [...layers.keys()].sort((a, b) => a - b)) {
    const ts = layers.get(i)!;
    groups.push({ key: `layer-${i}`, title: `Layer ${i}`, tensors: ts, bytes: sum(ts) });
  }
  return groups;
}

export function TensorList({ tensors }: { tensors: TensorSummary[] }) {
  const groups = useMemo(() => groupTensors(tensors), [tensors]);
  const total = tensors.reduce((a, t) => a + t.bytes, 0);
  return (
    <details className="tensor-list" data-testid="tensor-list">
      <summary>
        Tensors: {formatInt(tensors.length)} in {groups.length} group{groups.length === 1 ? '' : 's'}, {formatBytes(total)}
      </summary>
      {groups.map((g) => (
        <details key={g.key} className="tensor-group">
          <summary>
            {g.title} <span className="muted">({g.tensors.length} tensors, {formatBytes(g.bytes)})</span>
          </summary>
          <table>
            <Head cols={['Name', 'dtype', 'Shape', '#Bytes']} />
            <tbody>
              {g.tensors.map((t) => (
                <tr key={t.name}>
                  <td className="mono">{t.name}</td>
                  <td>{t.dtype}</td>
                  <td className="mono">[{t.shape.join(', ')}]</td>
                  <td className="num">{formatBytes(t.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
    </details>
  );
}
