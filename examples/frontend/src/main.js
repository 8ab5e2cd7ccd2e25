import './style.css';
import { render } from './app.js';

const app = document.querySelector('#app');
const show = () => {
  app.innerHTML = render(location.pathname);
};

document.addEventListener('click', (e) => {
  const link = e.target.closest('a[data-link]');
  if (link) {
    e.preventDefault();
    history.pushState(null, '', link.getAttribute('href'));
    show();
  }
});
window.addEventListener('popstate', show);
show();
