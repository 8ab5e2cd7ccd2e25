// Package dashboard serves the collector's web page: the four keys per team
// and service over the chosen period, with their trend per bucket drawn as
// SVG on the server (html/template, no JavaScript).
package dashboard
