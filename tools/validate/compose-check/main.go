// compose-check loads a Compose file the way `docker compose config` does,
// with compose-go (the Compose Specification's reference loader, which
// docker compose itself uses): YAML anchors and merges, interpolation, the
// compose-spec JSON schema, normalisation and the consistency checks
// (depends_on, volumes and networks that exist). It prints every service it
// understood, or the loader's error, and exits non-zero on an error.
//
//	compose-check [-project-directory DIR] FILE
//
// The environment is empty on purpose, so the answer does not depend on the
// caller's shell: a variable the file requires (${NAME:?message} or
// ${NAME?message}, the passwords `npm run secrets -- compose` writes to .env)
// is given a placeholder; one with a default (${NAME:-default}) takes its
// default, exactly as compose would without a .env file.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

var required = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):?\?`)

func main() {
	dir := flag.String("project-directory", "", "directory relative paths are resolved against (default: the file's)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-project-directory DIR] FILE")
		os.Exit(2)
	}
	if err := check(flag.Arg(0), *dir); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", flag.Arg(0), err)
		os.Exit(1)
	}
}

func check(file, dir string) error {
	content, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if dir == "" {
		dir = filepath.Dir(file)
	}
	var env []string
	for _, m := range required.FindAllStringSubmatch(string(content), -1) {
		env = append(env, m[1]+"=compose-check-placeholder")
	}
	options, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(env),
		// Every profile: services behind one (the operator's `sale`) are checked too.
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	names := project.ServiceNames()
	sort.Strings(names)
	fmt.Printf("%s: project %q, %d services (%s), %d volumes\n", file, project.Name, len(names), strings.Join(names, ", "), len(project.Volumes))
	return nil
}
