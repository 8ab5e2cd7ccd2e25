module github.com/pavedhq/paved/examples/go-service

go 1.25

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/google/uuid v1.6.0
)
