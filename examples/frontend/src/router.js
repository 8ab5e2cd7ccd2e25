// A history-API router: routes are paths with :params, matched in order.
// The server answers every route with index.html, so a deep link or a
// reload lands here.
export function compile(pattern) {
  const names = [];
  const source = pattern
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        names.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regexp: new RegExp(`^${source}/?$`), names };
}

export function match(routes, path) {
  for (const route of routes) {
    const { regexp, names } = compile(route.path);
    const m = regexp.exec(path);
    if (m) {
      const params = {};
      names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]);
      });
      return { route, params };
    }
  }
  return null;
}
