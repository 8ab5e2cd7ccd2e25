import escapeHTML from 'escape-html';

export const routes = [
  { path: '/', view: () => '<h1>Home</h1><p>Served by paved-static.</p>' },
  { path: '/about', view: () => '<h1>About</h1><p>Built, tested, scanned and signed by paved.</p>' },
  // The name comes from the address bar: escape it.
  { path: '/users/:name', view: ({ name }) => `<h1>User</h1><p>Hello, ${escapeHTML(name)}.</p>` },
];

export function notFound(path) {
  return `<h1>Not found</h1><p>No page at ${escapeHTML(path)}.</p>`;
}
