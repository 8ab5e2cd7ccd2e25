import { describe, expect, it } from 'vitest';
import { render } from './app.js';
import { compile, match } from './router.js';

describe('router', () => {
  it('matches static and parameter routes', () => {
    const routes = [{ path: '/' }, { path: '/users/:name' }];
    expect(match(routes, '/').route.path).toBe('/');
    expect(match(routes, '/users/ada%20l')).toEqual({ route: routes[1], params: { name: 'ada l' } });
    expect(match(routes, '/users/ada/')).not.toBeNull();
    expect(match(routes, '/nope')).toBeNull();
  });

  it('escapes literal parts', () => {
    expect(compile('/a.b').regexp.test('/a.b')).toBe(true);
    expect(compile('/a.b').regexp.test('/axb')).toBe(false);
  });
});

describe('render', () => {
  it('renders each page', () => {
    expect(render('/')).toContain('<h1>Home</h1>');
    expect(render('/about')).toContain('<h1>About</h1>');
  });

  it('escapes what comes from the address bar', () => {
    expect(render('/users/%3Cscript%3E')).toContain('Hello, &lt;script&gt;.');
    expect(render('/<b>')).toContain('No page at /&lt;b&gt;.');
  });
});
