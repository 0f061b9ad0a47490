// The Web Component's entry (dist-lib/kalcifer-element.js): loading it
// registers <kalcifer-editor>, React and the styles included.
import { defineKalciferEditor } from "./element";

export * from "./index";

defineKalciferEditor();
