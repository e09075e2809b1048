// composecheck loads a rendered docker-compose.yaml with compose-go, the library Docker Compose itself loads
// files with, and checks what compose-go does not: every bind mount names a file or directory that exists,
// no two services publish the same host port, and every image is pinned to a tag other than `latest`
// (and, for the images given with -image, to exactly that tag).
//
// Usage: composecheck [-print] [-image REPOSITORY=TAG]... FILE
//
// The project directory is the file's own directory, as `docker compose -f FILE` uses it. Every profile is
// enabled, so profile-gated services are checked too. Prints one line per problem and exits 1 when there is
// any; exit 2 is a usage error or a file compose-go refuses to load (its message is printed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

type pins map[string]string

func (p pins) String() string { return fmt.Sprint(map[string]string(p)) }

func (p pins) Set(value string) error {
	repo, tag, ok := strings.Cut(value, "=")
	if !ok || repo == "" || tag == "" {
		return errors.New("want REPOSITORY=TAG")
	}
	p[repo] = tag
	return nil
}

func main() {
	expected := pins{}
	flag.Var(expected, "image", "REPOSITORY=TAG an image of that repository must be pinned to (repeatable)")
	dump := flag.Bool("print", false, "print the loaded project as JSON (what Docker Compose would run)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: composecheck [-print] [-image REPOSITORY=TAG]... FILE")
		os.Exit(2)
	}
	project, err := load(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose-go: "+err.Error())
		os.Exit(2)
	}
	if *dump {
		out, err := project.MarshalJSON()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(string(out))
	}
	problems := check(project, expected)
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	fmt.Printf("ok: %d services\n", len(project.Services))
}

func load(file string) (*types.Project, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	options, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		// the caller's environment interpolates ${VAR} as `docker compose` does; no .env file is read
		cli.WithOsEnv,
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		return nil, err
	}
	return options.LoadProject(context.Background())
}

type published struct {
	service, hostIP, port, protocol string
}

// clashes: the same port and protocol on the same host address, or on any address when either side binds
// every address (no address, or 0.0.0.0).
func (a published) clashes(b published) bool {
	if a.port != b.port || a.protocol != b.protocol {
		return false
	}
	all := func(ip string) bool { return ip == "" || ip == "0.0.0.0" }
	return a.hostIP == b.hostIP || all(a.hostIP) || all(b.hostIP)
}

func check(project *types.Project, expected pins) []string {
	var problems []string
	var taken []published
	names := make([]string, 0, len(project.Services))
	for name := range project.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		service := project.Services[name]
		problems = append(problems, checkImage(name, service.Image, expected)...)
		problems = append(problems, checkMounts(name, service.Volumes)...)
		for _, port := range service.Ports {
			if port.Published == "" {
				continue
			}
			if service.GetScale() > 1 {
				problems = append(problems, fmt.Sprintf("%s: publishes host port %s but runs %d replicas: they clash",
					name, port.Published, service.GetScale()))
			}
			this := published{name, port.HostIP, port.Published, port.Protocol}
			if this.protocol == "" {
				this.protocol = "tcp"
			}
			for _, other := range taken {
				if this.clashes(other) {
					problems = append(problems, fmt.Sprintf("%s: host port %s/%s is already published by %s",
						name, this.port, this.protocol, other.service))
				}
			}
			taken = append(taken, this)
		}
	}
	return problems
}

func checkImage(service, image string, expected pins) []string {
	if image == "" {
		return []string{service + ": no image"}
	}
	if strings.Contains(image, "@") {
		return nil // pinned by digest
	}
	repo, tag := image, ""
	// the tag follows the last colon after the last slash (a registry host may have a port)
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		repo, tag = image[:i], image[i+1:]
	}
	switch {
	case tag == "":
		return []string{fmt.Sprintf("%s: image %s has no tag (Docker pulls latest)", service, image)}
	case tag == "latest":
		return []string{fmt.Sprintf("%s: image %s is not pinned (latest)", service, image)}
	}
	if want, ok := expected[repo]; ok && want != tag {
		return []string{fmt.Sprintf("%s: image %s should be %s:%s (the spec's stack)", service, image, repo, want)}
	}
	return nil
}

func checkMounts(service string, volumes []types.ServiceVolumeConfig) []string {
	var problems []string
	for _, volume := range volumes {
		if volume.Type != types.VolumeTypeBind {
			continue
		}
		// compose-go has resolved the source against the project directory; Docker would create a
		// missing source as an empty directory and the container would start without its config.
		if _, err := os.Stat(volume.Source); err != nil {
			problems = append(problems, fmt.Sprintf("%s: bind mount source %s does not exist (-> %s)",
				service, volume.Source, volume.Target))
		}
	}
	return problems
}
