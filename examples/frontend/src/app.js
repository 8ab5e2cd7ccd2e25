import { match } from './router.js';
import { routes, notFound } from './views.js';

// render returns the page for a path.
export function render(path) {
  const found = match(routes, path);
  return found ? found.route.view(found.params) : notFound(path);
}
