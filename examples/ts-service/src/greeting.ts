// greeting says hello to a name, or to the world when there is none.
export function greeting(name: string | null): string {
  const who = name?.trim();
  return `hello, ${who ? who : "world"}`;
}
