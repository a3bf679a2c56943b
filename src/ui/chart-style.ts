// The look shared by the page's scatter charts (the sweep chart, the planner's frontier): margins,
// numeric axes on the theme's muted colour with every given tick shown, and axis titles.

export const CHART_MARGIN = { top: 10, right: 18, bottom: 22, left: 6 };

/** Props of a numeric recharts axis: every tick given is drawn; values outside stay off the plot. */
export const NUMBER_AXIS = { type: 'number', interval: 0, stroke: 'var(--muted)', allowDataOverflow: true } as const;

/** The title under the x axis. */
export function xTitle(value: string) {
  return { value, position: 'insideBottom', offset: -12, fill: 'var(--muted)', fontSize: 12 } as const;
}

/** The title along the y axis, `dy` down from its middle. */
export function yTitle(value: string, dy: number) {
  return { value, angle: -90, position: 'insideLeft', fill: 'var(--muted)', fontSize: 12, dy } as const;
}
