// Colour maps for attention heat maps: small lookup tables (9 evenly spaced stops sampled from
// matplotlib's perceptually uniform maps), linearly interpolated. Pure functions, no DOM.

export type ColormapName = 'viridis' | 'inferno' | 'grey';
export type Rgb = [number, number, number];

export const COLORMAPS: readonly { id: ColormapName; label: string }[] = [
  { id: 'viridis', label: 'Viridis' },
  { id: 'inferno', label: 'Inferno' },
  { id: 'grey', label: 'Grey' },
];

const STOPS: Record<ColormapName, readonly Rgb[]> = {
  viridis: [
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
  ],
  inferno: [
    [0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85],
    [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164],
  ],
  grey: [[0, 0, 0], [255, 255, 255]],
};

/** The colour of `t` (clamped to 0..1; NaN counts as 0) in colour map `name`. */
export function colormap(name: ColormapName, t: number): Rgb {
  const stops = STOPS[name];
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const pos = x * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(pos));
  const f = pos - i;
  const [a, b] = [stops[i], stops[i + 1]];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as Rgb;
}

/** `colormap` as a CSS colour. */
export function colormapCss(name: ColormapName, t: number): string {
  const [r, g, b] = colormap(name, t);
  return `rgb(${r}, ${g}, ${b})`;
}

/** A CSS linear-gradient of the map (for a legend bar), left = 0, right = 1. */
export function colormapGradient(name: ColormapName): string {
  const stops = STOPS[name].map(([r, g, b], i, all) => `rgb(${r}, ${g}, ${b}) ${Math.round((i / (all.length - 1)) * 100)}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** Each value divided by the largest (0 when every value is 0 or the list is empty). */
export function normalise(values: readonly number[]): number[] {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return values.map((v) => (max > 0 ? Math.max(0, v) / max : 0));
}

export function isColormap(name: string): name is ColormapName {
  return name in STOPS;
}
