import { afterEach, expect, test } from "vitest";
import { act, cleanup, render, screen } from "@testing-library/react";
import { ReactFlowProvider } from "@xyflow/react";
import type { NodeType } from "../api/types";
import { demoJourney } from "../screens/demo";
import catalogue from "../testdata/node-types.json";
import { Canvas } from "./Canvas";
import { graphToFlow } from "./convert";
import { NodeTypesContext } from "./JourneyNodeView";
import { createEditorStore, EditorStoreContext } from "./store";

afterEach(cleanup);

const types = new Map((catalogue.data as NodeType[]).map((t) => [t.type, t]));

function renderCanvas() {
  const store = createEditorStore(graphToFlow(demoJourney.graph));
  render(
    <NodeTypesContext.Provider value={types}>
      <ReactFlowProvider>
        <EditorStoreContext.Provider value={store}>
          <div style={{ width: 1000, height: 800 }}>
            <Canvas types={types} readOnly={false} onRefused={() => {}} />
          </div>
        </EditorStoreContext.Provider>
      </ReactFlowProvider>
    </NodeTypesContext.Provider>,
  );
  return store;
}

test("the canvas shows each node with its title, summary and branch handles", () => {
  renderCanvas();
  expect(screen.getByText("Opened within 3 days?")).toBeTruthy();
  expect(screen.getByText("email_opened, up to 3d")).toBeTruthy();
  expect(screen.getByTestId("handle-wait_for_open-event_received")).toBeTruthy();
  expect(screen.getByTestId("handle-wait_for_open-timed_out")).toBeTruthy();
  // the end of the journey has no way out
  expect(screen.getByTestId("node-done").querySelector(".react-flow__handle-bottom")).toBeNull();
});

test("server problems and live counts show on their node; undo and redo restore edits", () => {
  const store = renderCanvas();
  act(() => store.getState().setProblems([{ node_id: "wait_a_week", field: "config.duration", message: "bad" }]));
  expect(screen.getByTestId("node-wait_a_week").textContent).toContain("1 problem");
  act(() => store.getState().setCounts(new Map([["wait_for_open", 12]])));
  expect(screen.getByTestId("node-wait_for_open").textContent).toContain("12");

  act(() => store.getState().removeNode("sms_reminder"));
  expect(screen.queryByTestId("node-sms_reminder")).toBeNull();
  expect(store.getState().edges).toHaveLength(5);
  act(() => store.getState().undo());
  expect(screen.getByTestId("node-sms_reminder")).toBeTruthy();
  expect(store.getState().edges).toHaveLength(7);
  act(() => store.getState().redo());
  expect(screen.queryByTestId("node-sms_reminder")).toBeNull();
});

test("typing in one field is one undo step", () => {
  const store = renderCanvas();
  act(() => {
    store.getState().setConfig("wait_a_week", { duration: "1d" });
    store.getState().setConfig("wait_a_week", { duration: "14d" });
  });
  expect(store.getState().past).toHaveLength(1);
  act(() => store.getState().undo());
  expect(store.getState().nodes.find((n) => n.id === "wait_a_week")!.data.config).toEqual({ duration: "7d" });
});
