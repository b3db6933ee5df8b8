export async function step(label: string): Promise<string> {
  return label;
}
