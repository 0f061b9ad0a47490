// The library build's entry (npm run build:lib → dist-lib/): the editor as
// a React component, and as the <kalcifer-editor> Web Component.
// Its stylesheet (dist-lib/kalcifer-editor.css) for React apps rendering the component itself.
import "../index.css";

export { KalciferEditor, type KalciferEditorProps } from "./KalciferEditor";
export { KalciferEditorElement, defineKalciferEditor, tagName } from "./element";
export { configureApi } from "../api/client";
export type { Graph, Journey } from "../api/types";
