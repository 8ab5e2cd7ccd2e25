// Package store keeps notes in memory. It is safe for concurrent use.
package store

import (
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
)

// ErrNotFound is returned when a note does not exist.
var ErrNotFound = errors.New("note not found")

// Note is a short piece of text with an id.
type Note struct {
	ID        string    `json:"id"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"createdAt"`
}

// Store is an in-memory note store.
type Store struct {
	mu    sync.RWMutex
	notes map[string]Note
	now   func() time.Time
}

// New returns an empty store.
func New() *Store {
	return &Store{notes: make(map[string]Note), now: time.Now}
}

// Create stores a new note with the given text and returns it.
func (s *Store) Create(text string) Note {
	n := Note{ID: uuid.NewString(), Text: text, CreatedAt: s.now().UTC()}
	s.mu.Lock()
	s.notes[n.ID] = n
	s.mu.Unlock()
	return n
}

// Get returns the note with the given id, or ErrNotFound.
func (s *Store) Get(id string) (Note, error) {
	s.mu.RLock()
	n, ok := s.notes[id]
	s.mu.RUnlock()
	if !ok {
		return Note{}, ErrNotFound
	}
	return n, nil
}

// List returns all notes, oldest first (ties broken by id).
func (s *Store) List() []Note {
	s.mu.RLock()
	out := make([]Note, 0, len(s.notes))
	for _, n := range s.notes {
		out = append(out, n)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Delete removes the note with the given id, or returns ErrNotFound.
func (s *Store) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.notes[id]; !ok {
		return ErrNotFound
	}
	delete(s.notes, id)
	return nil
}
