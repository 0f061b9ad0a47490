import type { ScreenProps } from "../routes";

export default function EditorScreen({ params }: ScreenProps) {
  return <div className="p-8">Journey {params.id}</div>;
}
