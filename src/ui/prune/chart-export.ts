// The sparsity-vs-perplexity chart as a standalone SVG or PNG file.
//
// recharts draws an <svg> whose colours and fonts partly come from the page's CSS (custom
// properties such as var(--muted), the font stack, text colour): copied as is, the SVG would
// render black-on-transparent anywhere else. So the chart's SVG is cloned, every element gets its
// computed paint and font properties inline (custom properties resolved), attributes that refer
// to CSS variables are dropped, and the clone is placed in a new root <svg> (xmlns, width,
// height, viewBox) with the theme's panel colour as background, a title line and a legend (the
// page's legend is HTML, outside the chart's SVG). The PNG is that SVG drawn on a canvas at 2×.
import { runFileExport } from '../../store/export-actions';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The properties that decide how an SVG element looks. */
const PROPS = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'stroke-linecap',
  'stroke-linejoin',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
  'dominant-baseline',
  'visibility',
] as const;

/** Values that are the SVG defaults anyway (left out to keep the file small). */
const DEFAULTS: Partial<Record<(typeof PROPS)[number], string[]>> = {
  'fill-opacity': ['1'],
  'stroke-opacity': ['1'],
  opacity: ['1'],
  'stroke-dasharray': ['none'],
  'stroke-linecap': ['butt'],
  'stroke-linejoin': ['miter'],
  'font-style': ['normal'],
  'text-anchor': ['start'],
  'dominant-baseline': ['auto'],
  visibility: ['visible'],
};

export interface LegendEntry {
  label: string;
  color: string;
  shape: 'circle' | 'diamond' | 'square' | 'triangle';
}

export interface ChartImage {
  svg: string;
  width: number;
  height: number;
}

const TITLE_H = 42;
const LEGEND_H = 26;
/** Room left and right, so tick labels at the chart's edges are not cut. */
const PAD_X = 14;

/** Copy the computed look of `src` and its descendants onto the parallel clone `dst`. */
function inlineStyles(src: Element, dst: Element): void {
  const srcAll = [src, ...src.querySelectorAll('*')];
  const dstAll = [dst, ...dst.querySelectorAll('*')];
  for (let i = 0; i < srcAll.length; i++) {
    const cs = getComputedStyle(srcAll[i]);
    const el = dstAll[i];
    const decl: string[] = [];
    for (const p of PROPS) {
      const v = cs.getPropertyValue(p).trim();
      if (!v || DEFAULTS[p]?.includes(v)) continue;
      decl.push(`${p}:${v}`);
    }
    for (const a of [...el.attributes]) {
      if (a.value.includes('var(') || a.name === 'style') el.removeAttribute(a.name);
    }
    if (decl.length) el.setAttribute('style', decl.join(';'));
  }
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function legendMark(entry: LegendEntry, x: number, y: number, bg: string): SVGElement {
  if (entry.shape === 'square') return el('rect', { x: x - 5, y: y - 5, width: 10, height: 10, fill: entry.color });
  if (entry.shape === 'triangle') return el('path', { d: `M${x},${y - 6}L${x + 6},${y + 5}L${x - 6},${y + 5}Z`, fill: entry.color });
  if (entry.shape === 'diamond') return el('path', { d: `M${x},${y - 6}L${x + 6},${y}L${x},${y + 6}L${x - 6},${y}Z`, fill: bg, stroke: entry.color, 'stroke-width': 2 });
  return el('circle', { cx: x, cy: y, r: 5, fill: entry.color });
}

/**
 * The rendered chart inside `box` (recharts' root <svg class="recharts-surface">) as standalone
 * SVG text, with a title above and a legend below.
 */
export function chartSvg(box: HTMLElement, opts: { title: string; subtitle?: string; legend: LegendEntry[] }): ChartImage {
  const chart = box.querySelector('svg.recharts-surface');
  if (!(chart instanceof SVGSVGElement)) throw new Error('internal: the chart has not been drawn');
  const rect = chart.getBoundingClientRect();
  const w = Math.round(Number(chart.getAttribute('width')) || rect.width);
  const h = Math.round(Number(chart.getAttribute('height')) || rect.height);
  const page = getComputedStyle(box);
  const bg = page.getPropertyValue('--panel').trim() || '#ffffff';
  const text = page.color || '#1f2328';
  const muted = page.getPropertyValue('--muted').trim() || text;
  const font = page.fontFamily || 'sans-serif';

  const clone = chart.cloneNode(true) as SVGSVGElement;
  inlineStyles(chart, clone);
  for (const attr of ['class', 'role', 'tabindex']) clone.removeAttribute(attr);
  clone.setAttribute('x', String(PAD_X));
  clone.setAttribute('y', String(TITLE_H));
  clone.setAttribute('overflow', 'visible');
  clone.setAttribute('width', String(w));
  clone.setAttribute('height', String(h));
  clone.setAttribute('viewBox', `0 0 ${w} ${h}`);

  const W = w + 2 * PAD_X;
  const H = TITLE_H + h + LEGEND_H;
  const root = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, 'font-family': font });
  root.setAttributeNS('http://www.w3.org/2000/xmlns/', 'xmlns', SVG_NS);
  root.append(el('rect', { x: 0, y: 0, width: W, height: H, fill: bg }));
  root.append(el('text', { x: PAD_X, y: 18, fill: text, 'font-size': 14, 'font-weight': 600 }, opts.title));
  if (opts.subtitle) root.append(el('text', { x: PAD_X, y: 34, fill: muted, 'font-size': 11 }, opts.subtitle));
  root.append(clone);
  const legend = el('g', { 'font-size': 12, fill: text });
  let x = PAD_X + 16;
  const y = TITLE_H + h + LEGEND_H / 2;
  for (const entry of opts.legend) {
    legend.append(legendMark(entry, x, y, bg));
    legend.append(el('text', { x: x + 10, y: y + 4, fill: text }, entry.label));
    x += 26 + entry.label.length * 7;
  }
  root.append(legend);
  return { svg: new XMLSerializer().serializeToString(root), width: W, height: H };
}

/** Draw the SVG on a canvas at `scale` × its size and encode it as PNG. */
export async function svgToPng(image: ChartImage, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([image.svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('The chart could not be drawn as an image.'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(image.width * scale);
    canvas.height = Math.round(image.height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('This browser cannot draw on a canvas, so the chart cannot be saved as PNG.');
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, image.width, image.height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('The PNG could not be encoded.'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Save the chart in `box` as SVG or PNG (name from the model). */
export function saveChart(format: 'svg' | 'png', box: HTMLElement, opts: { title: string; subtitle?: string; legend: LegendEntry[]; baseName: string; what?: string }): Promise<void> {
  // Serialised at click time, while the chart on screen is the one the user sees.
  let image: ChartImage | null = null;
  const check = () => {
    image = chartSvg(box, opts);
  };
  const name = `${opts.baseName}-${opts.what ?? 'sparsity-vs-perplexity'}.${format}`;
  if (format === 'svg') {
    return runFileExport('svg', { name, type: 'image/svg+xml', description: 'SVG image', extensions: ['.svg'] }, () => image!.svg, check);
  }
  return runFileExport('png', { name, type: 'image/png', description: 'PNG image', extensions: ['.png'] }, () => svgToPng(image!), check);
}
