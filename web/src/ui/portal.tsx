// Where overlays (dialogs, menus, tooltips) are portalled: document.body in
// the app; an element inside the shadow root when the editor is embedded as
// <kalcifer-editor>, so they get the editor's styles and none of the page's.
import { createContext, useContext } from "react";

export const PortalContainerContext = createContext<HTMLElement | null>(null);

/** usePortalContainer is the element overlays go into (undefined: document.body). */
export function usePortalContainer(): HTMLElement | undefined {
  return useContext(PortalContainerContext) ?? undefined;
}
