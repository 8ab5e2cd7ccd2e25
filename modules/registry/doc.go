// Package registry is the one configuration paved's modules use to talk
// to OCI registries: the HTTP transport and its time-outs, credentials
// from the Docker config (authn.DefaultKeychain), which failures are
// retried and how often, and the user agent.
//
// Every module that reads or writes a registry passes its callers' options
// through Options, so a library user's remote.Option (a transport, an
// authenticator through WithAuth, a different back-off) overrides paved's
// default in one place for every call. It depends on go-containerregistry
// only, so the light modules, the pipelines and the runner can import it.
package registry
