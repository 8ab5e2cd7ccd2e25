import { server } from "./app.js";

const port = Number(process.env.PORT ?? "8080");
const s = server().listen(port, () => {
  console.log(`listening on :${port}`);
});

// The platform stops containers with SIGTERM: finish what is in flight.
process.on("SIGTERM", () => s.close(() => process.exit(0)));
