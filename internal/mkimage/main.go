// Command mkimage writes a one-layer container image holding a static
// binary, as a docker-archive tar (the `docker save` layout: manifest.json,
// the image config named by its digest, one directory per layer with its
// layer.tar), which `docker load` and `ctr -n k8s.io images import` both
// accept. It needs no Docker daemon and no registry; `make image` uses it to
// make the syscope image that kubectl-capture's capture pods run.
//
//	go run ./internal/mkimage -tag docker.io/syscope/syscope:dev -o bin/syscope-image.tar bin/image/syscope
//
// The binary lands at /<its base name> and is the image's entrypoint; the
// layer also has /tmp, /run and /var/run (a link to /run). The
// output is reproducible: fixed times and owners, so the same binary gives
// the same image id.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// epoch is the time of every file and of the image (reproducible output).
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	tag := flag.String("tag", "docker.io/syscope/syscope:dev", "the image's name:tag")
	out := flag.String("o", "bin/syscope-image.tar", "the docker-archive tar to write")
	arch := flag.String("arch", runtime.GOARCH, "the image's architecture (the binary's)")
	cmd := flag.String("cmd", "--help", "the image's default arguments (space-separated)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: mkimage [-tag NAME:TAG] [-o OUT.tar] [-arch ARCH] [-cmd ARGS] BINARY\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	id, err := build(*out, *tag, *arch, flag.Arg(0), strings.Fields(*cmd))
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%s: image %s (id sha256:%s)\n", *out, *tag, id)
}

// build writes the image and returns its id (the config's digest).
func build(out, tag, arch, binary string, cmd []string) (string, error) {
	if !strings.Contains(tag, ":") || strings.HasSuffix(tag, ":") {
		return "", fmt.Errorf("-tag %q: expected NAME:TAG", tag)
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		return "", err
	}
	entry := "/" + filepath.Base(binary)
	layer, err := layerTar(entry, bin)
	if err != nil {
		return "", err
	}
	diff := sha256.Sum256(layer)
	diffID := hex.EncodeToString(diff[:])
	config, err := json.Marshal(imageConfig{
		Architecture: arch,
		OS:           "linux",
		Created:      epoch.Format(time.RFC3339),
		Config: runConfig{
			Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Entrypoint: []string{entry},
			Cmd:        cmd,
			WorkingDir: "/",
		},
		RootFS:  rootFS{Type: "layers", DiffIDs: []string{"sha256:" + diffID}},
		History: []history{{Created: epoch.Format(time.RFC3339), CreatedBy: "mkimage " + entry}},
	})
	if err != nil {
		return "", err
	}
	csum := sha256.Sum256(config)
	id := hex.EncodeToString(csum[:])
	manifest, err := json.Marshal([]manifestEntry{{
		Config:   id + ".json",
		RepoTags: []string{tag},
		Layers:   []string{diffID + "/layer.tar"},
	}})
	if err != nil {
		return "", err
	}
	tmp := out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(f)
	files := []struct {
		name string
		data []byte
	}{
		{diffID + "/VERSION", []byte("1.0")},
		{diffID + "/layer.tar", layer},
		{id + ".json", config},
		{"manifest.json", manifest},
	}
	err = addDir(tw, diffID+"/")
	for _, x := range files {
		if err == nil {
			err = addFile(tw, x.name, x.data, 0o644)
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return id, nil
}

// layerTar is the layer: /tmp, /run with /var/run pointing to it (where
// programs look for the runtimes' sockets, which a pod may mount from its
// node), and the binary at entry.
func layerTar(entry string, bin []byte) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range []tar.Header{
		{Typeflag: tar.TypeDir, Name: "run/", Mode: 0o755},
		{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777},
		{Typeflag: tar.TypeDir, Name: "var/", Mode: 0o755},
		{Typeflag: tar.TypeSymlink, Name: "var/run", Linkname: "../run", Mode: 0o777},
	} {
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
	}
	if err := addFile(tw, strings.TrimPrefix(entry, "/"), bin, 0o755); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func addDir(tw *tar.Writer, name string) error {
	return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
}

func addFile(tw *tar.Writer, name string, data []byte, mode int64) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := io.Copy(tw, bytes.NewReader(data))
	return err
}

// The image config (the parts of the OCI/Docker image config used here).
type imageConfig struct {
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	Created      string    `json:"created"`
	Config       runConfig `json:"config"`
	RootFS       rootFS    `json:"rootfs"`
	History      []history `json:"history"`
}

type runConfig struct {
	Env        []string `json:"Env"`
	Entrypoint []string `json:"Entrypoint"`
	Cmd        []string `json:"Cmd,omitempty"`
	WorkingDir string   `json:"WorkingDir"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type history struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

// manifestEntry is one image of a docker-archive's manifest.json.
type manifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}
