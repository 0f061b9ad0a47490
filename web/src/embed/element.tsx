// <kalcifer-editor api-url="…" journey-id="…" token="…" [readonly]>: the
// editor as a Web Component, for pages without React. It renders into a
// shadow root, with its own copy of the app's styles: the page's CSS cannot
// reach in, and the editor's (Tailwind's reset included) cannot leak out.
import { createRoot, type Root } from "react-dom/client";
import appCss from "../index.css?inline";
import flowCss from "@xyflow/react/dist/style.css?inline";
import { KalciferEditor } from "./KalciferEditor";

/** The custom element's tag. */
export const tagName = "kalcifer-editor";

const attributes = ["api-url", "journey-id", "token", "readonly"] as const;

/**
 * The registered @property rules of the styles. Browsers ignore @property
 * inside a shadow root, and Tailwind's shadows, rings and transforms need
 * their initial values, so they are declared once on the document too
 * (they only name --tw-* custom properties).
 */
function globalProperties(css: string): string {
  return (css.match(/@property\s+--[\w-]+\s*\{[^}]*\}/g) ?? []).join("\n");
}

let propertiesAdded = false;

export class KalciferEditorElement extends HTMLElement {
  static observedAttributes = attributes;
  private root: Root | null = null;
  private mount: HTMLDivElement | null = null;
  private portal: HTMLDivElement | null = null;

  connectedCallback(): void {
    if (!propertiesAdded) {
      const style = document.createElement("style");
      style.dataset.kalcifer = "properties";
      style.textContent = globalProperties(appCss);
      document.head.append(style);
      propertiesAdded = true;
    }
    if (!this.root) {
      const shadow = this.shadowRoot ?? this.attachShadow({ mode: "open" });
      const style = document.createElement("style");
      style.textContent = `:host { display: block; position: relative; height: 600px; }\n${flowCss}\n${appCss}`;
      this.mount = document.createElement("div");
      this.mount.style.height = "100%";
      this.portal = document.createElement("div");
      shadow.append(style, this.mount, this.portal);
      this.root = createRoot(this.mount);
    }
    this.render();
  }

  disconnectedCallback(): void {
    this.root?.unmount();
    this.root = null;
    this.shadowRoot?.replaceChildren();
  }

  attributeChangedCallback(): void {
    if (this.root) this.render();
  }

  private render(): void {
    const apiUrl = this.getAttribute("api-url") ?? "";
    const journeyId = this.getAttribute("journey-id") ?? "";
    const token = this.getAttribute("token") ?? "";
    const missing = attributes.filter((a) => a !== "readonly" && !this.getAttribute(a));
    if (missing.length > 0) {
      this.root!.render(
        <p className="m-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
          &lt;kalcifer-editor&gt; needs {missing.join(", ")}.
        </p>,
      );
      return;
    }
    this.root!.render(
      <KalciferEditor apiUrl={apiUrl} journeyId={journeyId} token={token} readOnly={this.hasAttribute("readonly")}
        portalContainer={this.portal} />,
    );
  }
}

/** defineKalciferEditor registers the element (once; a second call does nothing). */
export function defineKalciferEditor(): void {
  if (!customElements.get(tagName)) customElements.define(tagName, KalciferEditorElement);
}

declare global {
  interface HTMLElementTagNameMap {
    "kalcifer-editor": KalciferEditorElement;
  }
}
