// Package event holds the sysdig event table: event types, their parameters and how each parameter is rendered.
package event

//go:generate go run ./internal/gennames
