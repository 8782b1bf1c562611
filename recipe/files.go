package recipe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hypergrid-go/hypergrid/internal/fileio"

	"github.com/hypergrid-go/hypergrid/recipes"
)

// ShippedPrefix starts the name of a recipe file read from the shipped recipes
// (package recipes) rather than from disk: "shipped:t5-mini.yaml". Errors in such a
// file are reported under this name.
const ShippedPrefix = "shipped:"

// MaxFileBytes bounds the size of one recipe file (includes count one by one). A larger
// file is refused before it is read whole.
const MaxFileBytes = 1 << 20

// ResolveMain returns the name under which the recipe arg is read: arg itself when it
// is a file (or anything other than a shipped recipe's name), else the shipped recipe
// of that name ("t5-mini" -> "shipped:t5-mini.yaml").
func ResolveMain(arg string) string {
	if _, err := os.Lstat(arg); errors.Is(err, fs.ErrNotExist) {
		if file, ok := recipes.Lookup(arg); ok {
			return ShippedPrefix + file
		}
	}
	return arg
}

// ReadFile reads a recipe file as the loader does by default: a shipped recipe for a
// name that starts with ShippedPrefix, else a regular file from disk, read through a
// limit of MaxFileBytes (a FIFO, a device or a larger file is refused without reading
// it whole).
func ReadFile(name string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(name, ShippedPrefix); ok {
		b, err := recipes.ReadFile(rest)
		if err != nil {
			return nil, fmt.Errorf("no shipped recipe %q (shipped: %s)", strings.TrimSuffix(rest, ".yaml"), strings.Join(recipes.Names(), ", "))
		}
		return b, nil
	}
	return fileio.ReadRegular(name, "recipe", MaxFileBytes)
}

// resolveInclude returns the name of the file that the include value inc of the
// recipe file from names. The rule:
//   - a bare name without a folder or an extension is a shipped recipe
//     ("include: t5-mini");
//   - in a shipped recipe, every include is another shipped recipe;
//   - otherwise the value is a path relative to the including file's folder, and it
//     must stay inside the folder of the recipe being loaded (root): no absolute
//     paths, no ../ out of that folder. Recipes are shared and stored in
//     checkpoints, so what they read must travel with them.
func resolveInclude(root, from, inc string) (string, error) {
	if rest, ok := strings.CutPrefix(from, ShippedPrefix); ok {
		_ = rest
		file, ok := recipes.Lookup(strings.TrimPrefix(inc, "./"))
		if !ok {
			return "", fmt.Errorf("%q is not a shipped recipe (shipped: %s)", inc, strings.Join(recipes.Names(), ", "))
		}
		return ShippedPrefix + file, nil
	}
	if !strings.ContainsAny(inc, `/\`) && filepath.Ext(inc) == "" {
		if file, ok := recipes.Lookup(inc); ok {
			return ShippedPrefix + file, nil
		}
		return "", fmt.Errorf("%q is not a shipped recipe (shipped: %s); to include a file, give its name with .yaml", inc, strings.Join(recipes.Names(), ", "))
	}
	if filepath.IsAbs(inc) || strings.HasPrefix(inc, "/") || strings.HasPrefix(inc, `\`) || filepath.VolumeName(inc) != "" {
		return "", fmt.Errorf("%q is an absolute path; includes are relative to the recipe's folder (copy the file next to the recipe)", inc)
	}
	path := filepath.Clean(filepath.Join(filepath.Dir(from), inc))
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%q is outside the recipe's folder %s; includes must stay inside it (copy the file next to the recipe)", inc, root)
	}
	return path, nil
}
