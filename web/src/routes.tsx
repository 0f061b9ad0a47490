// The app's screens. A new screen is one entry here (and one file in
// screens/); an entry with `nav` also gets a line in the left navigation.
import { lazy, type ComponentType, type LazyExoticComponent } from "react";
import { JourneysScreen } from "./screens/Journeys";
import { Icon, type IconName } from "./shell/Icon";

/** What a screen component receives: the path's parameters. */
export type ScreenProps = { params: Record<string, string> };

export type Screen = {
  /** A path pattern: "/journeys/:id". */
  path: string;
  component: ComponentType<ScreenProps> | LazyExoticComponent<ComponentType<ScreenProps>>;
  /** Shown in the left navigation when set. */
  nav?: { label: string; icon: IconName };
  /** Fills the whole content area (no page padding), as the canvas does. */
  fullBleed?: boolean;
};

// The editor pulls in ReactFlow and dagre: loaded only when opened, so the
// first screen's JavaScript stays small.
const EditorScreen = lazy(() => import("./screens/Editor"));
const VersionsScreen = lazy(() => import("./screens/Versions"));
const MonitorScreen = lazy(() => import("./screens/Monitor"));
const AiDesignerScreen = lazy(() => import("./screens/AiDesigner"));
const TemplatesScreen = lazy(() => import("./screens/Templates"));
const ProvidersScreen = lazy(() => import("./screens/Providers"));
const SegmentsScreen = lazy(() => import("./screens/Segments"));
const CustomersScreen = lazy(() => import("./screens/Customers"));

export const screens: Screen[] = [
  { path: "/", component: JourneysScreen, nav: { label: "Journeys", icon: "journeys" } },
  { path: "/journeys", component: JourneysScreen },
  { path: "/journeys/:id", component: EditorScreen, fullBleed: true },
  { path: "/journeys/:id/versions", component: VersionsScreen, fullBleed: true },
  { path: "/journeys/:id/monitor", component: MonitorScreen, fullBleed: true },
  { path: "/journeys/:id/design", component: AiDesignerScreen, fullBleed: true },
  { path: "/design", component: AiDesignerScreen, fullBleed: true, nav: { label: "AI designer", icon: "sparkle" } },
  { path: "/templates", component: TemplatesScreen, nav: { label: "Templates", icon: "template" } },
  { path: "/providers", component: ProvidersScreen, nav: { label: "Providers", icon: "provider" } },
  { path: "/segments", component: SegmentsScreen, nav: { label: "Segments", icon: "segments" } },
  { path: "/segments/:id", component: SegmentsScreen },
  { path: "/customers", component: CustomersScreen, nav: { label: "Customers", icon: "users" } },
  { path: "/customers/:id", component: CustomersScreen },
];

export { Icon };
