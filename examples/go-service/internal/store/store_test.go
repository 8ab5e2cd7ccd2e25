package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestCreateGetDelete(t *testing.T) {
	s := New()
	n := s.Create("hello")
	if n.ID == "" || n.Text != "hello" || n.CreatedAt.IsZero() {
		t.Fatalf("Create returned %+v", n)
	}
	got, err := s.Get(n.ID)
	if err != nil || got != n {
		t.Fatalf("Get(%q) = %+v, %v; want %+v", n.ID, got, err, n)
	}
	if err := s.Delete(n.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(n.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(n.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: err = %v, want ErrNotFound", err)
	}
}

func TestListOrder(t *testing.T) {
	s := New()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tick := 0
	s.now = func() time.Time {
		tick++
		if tick == 3 { // same instant as the second note: ordered by id
			tick = 2
		}
		return base.Add(time.Duration(tick) * time.Second)
	}
	a, b, c := s.Create("a"), s.Create("b"), s.Create("c")
	list := s.List()
	if len(list) != 3 || list[0] != a {
		t.Fatalf("List = %+v", list)
	}
	first, second := b, c
	if c.ID < b.ID {
		first, second = c, b
	}
	if list[1] != first || list[2] != second {
		t.Fatalf("List = %+v, want ties ordered by id", list)
	}
	if got := New().List(); got == nil || len(got) != 0 {
		t.Fatalf("empty List = %#v, want empty non-nil slice", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				n := s.Create(fmt.Sprintf("%d-%d", i, j))
				if _, err := s.Get(n.ID); err != nil {
					t.Error(err)
				}
				_ = s.List()
			}
		}()
	}
	wg.Wait()
	if got := len(s.List()); got != 400 {
		t.Fatalf("len(List) = %d, want 400", got)
	}
}
