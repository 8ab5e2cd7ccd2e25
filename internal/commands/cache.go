package commands

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pavedhq/paved/runner"
)

// CacheMaxSizeEnv bounds the step cache after each run when
// --cache-max-size is not given.
const CacheMaxSizeEnv = "PAVED_CACHE_MAX_SIZE"

func newCache() *cobra.Command {
	c := &cobra.Command{Use: "cache", Short: "Manage the step cache"}
	c.AddCommand(newCachePrune())
	return c
}

func newCachePrune() *cobra.Command {
	var dir, maxSize, maxAge string
	c := &cobra.Command{
		Use:   "prune",
		Short: "Evict the least recently used step results until the cache is within bounds",
		Example: `  paved cache prune --max-size 2GB
  paved cache prune --max-age 30d --cache-dir /ci/cache/paved`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			var o runner.PruneOptions
			var err error
			if c.Flags().Changed("max-size") {
				if o.MaxSize, err = runner.ParseSize(maxSize); err != nil {
					return &UsageError{Err: fmt.Errorf("--max-size: %w", err)}
				}
			} else if o.MaxSize, err = cacheMaxSize(c.Flags(), ""); err != nil {
				return err
			}
			if maxAge != "" {
				if o.MaxAge, err = runner.ParseAge(maxAge); err != nil {
					return &UsageError{Err: fmt.Errorf("--max-age: %w", err)}
				}
			}
			if dir, err = cacheDir(dir); err != nil {
				return err
			}
			if _, err := os.Stat(dir); err != nil {
				fmt.Fprintf(c.OutOrStdout(), "paved: no cache at %s\n", dir)
				return nil
			}
			cache, err := runner.NewCache(dir)
			if err != nil {
				return &UsageError{Err: fmt.Errorf("--cache-dir: %w", err)}
			}
			p, err := cache.Prune(c.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "paved: cache %s: %s\n", dir, p)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "cache-dir", "", "step cache directory (default $XDG_CACHE_HOME/paved)")
	c.Flags().StringVar(&maxSize, "max-size", "", "evict until the entries take at most this much, such as 512MiB or 2GB (default $"+CacheMaxSizeEnv+", else 10GiB)")
	c.Flags().StringVar(&maxAge, "max-age", "", "also evict entries unused for longer than this, such as 72h or 30d")
	return c
}

// cacheMaxSize is the automatic bound: the flag named, else
// $PAVED_CACHE_MAX_SIZE, else runner.DefaultCacheMaxSize; 0 turns it off.
func cacheMaxSize(fs *pflag.FlagSet, flag string) (int64, error) {
	if flag != "" && fs.Changed(flag) {
		v, _ := fs.GetString(flag)
		n, err := runner.ParseSize(v)
		if err != nil {
			return 0, &UsageError{Err: fmt.Errorf("--%s: %w", flag, err)}
		}
		return n, nil
	}
	if v := os.Getenv(CacheMaxSizeEnv); v != "" {
		n, err := runner.ParseSize(v)
		if err != nil {
			return 0, &UsageError{Err: fmt.Errorf("%s: %w", CacheMaxSizeEnv, err)}
		}
		return n, nil
	}
	return runner.DefaultCacheMaxSize, nil
}
