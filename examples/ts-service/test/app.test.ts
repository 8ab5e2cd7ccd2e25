import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { server } from "../src/app.js";
import { greeting } from "../src/greeting.js";

let base = "";
const s = server();

beforeAll(async () => {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => s.close(() => resolve())));

describe("http", () => {
  it("answers the health endpoint", async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("greets", async () => {
    const res = await fetch(`${base}/hello?name=paved`);
    expect(await res.json()).toEqual({ message: "hello, paved" });
  });

  it("answers 404 for unknown paths", async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it("refuses other methods", async () => {
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(405);
  });
});

describe("greeting", () => {
  it("greets the world without a name", () => {
    expect(greeting(null)).toBe("hello, world");
    expect(greeting("  ")).toBe("hello, world");
  });
});
