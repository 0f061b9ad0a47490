// A handful of inline SVG icons (stroke icons, 20×20), so the app loads no
// icon font.
const paths = {
  journeys: "M4 5h4v4H4zM12 11h4v4h-4zM8 7h2a2 2 0 0 1 2 2v4",
  plus: "M10 4v12M4 10h12",
  search: "M9 15a6 6 0 1 0 0-12 6 6 0 0 0 0 12zM17 17l-3.5-3.5",
  undo: "M7 8H13a4 4 0 0 1 0 8H9M7 8l3-3M7 8l3 3",
  redo: "M13 8H7a4 4 0 0 0 0 8h4M13 8l-3-3M13 8l-3 3",
  layout: "M3 3h6v5H3zM11 12h6v5h-6zM6 8v4h8",
  fit: "M3 7V3h4M13 3h4v4M17 13v4h-4M7 17H3v-4",
  save: "M4 4h10l2 2v10H4zM7 4v4h6V4M7 16v-5h6v5",
  play: "M6 4l10 6-10 6z",
  pause: "M6 4h3v12H6zM11 4h3v12h-3z",
  trash: "M4 6h12M8 6V4h4v2M6 6l1 10h6l1-10",
  copy: "M7 7h9v9H7zM4 13V4h9",
  archive: "M3 4h14v4H3zM5 8v8h10V8M8 11h4",
  logout: "M12 4h4v12h-4M8 7l-3 3 3 3M5 10h9",
  sparkle: "M10 3l1.6 4.4L16 9l-4.4 1.6L10 15l-1.6-4.4L4 9l4.4-1.6z",
  back: "M12 4l-6 6 6 6",
  warning: "M10 3l8 14H2zM10 8v4M10 14.5v.5",
  users: "M7 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM2 17c0-3 2-5 5-5s5 2 5 5M13 4a3 3 0 0 1 0 5M15 12c2 .5 3 2.5 3 5",
  close: "M5 5l10 10M15 5L5 15",
  template: "M4 4h12v12H4zM4 8h12M8 8v8",
  provider: "M3 6l7 4 7-4M3 6v8h14V6M3 6h14",
  segments: "M9 4a6 6 0 1 0 6 7H9zM12 2v6h6a6 6 0 0 0-6-6z",
} as const;

export type IconName = keyof typeof paths;

export function Icon({ name, className = "h-5 w-5" }: { name: IconName; className?: string }) {
  return (
    <svg viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth={1.6} strokeLinecap="round"
      strokeLinejoin="round" className={className} aria-hidden="true">
      <path d={paths[name]} />
    </svg>
  );
}
