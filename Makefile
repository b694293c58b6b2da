# Builds the drainer image from drainer/Dockerfile, for explicit platforms, and pushes it only to a registry you name.
# The project's own public image (the repository in .release) is published by the release workflow
# (.github/workflows/release.yml) alone, never from a laptop.
#
#   make build                                   both architectures (linux/amd64,linux/arm64) with buildx: checks
#                                                that both build; a multi-platform result stays in buildx's cache
#   make build PLATFORM=linux/arm64              one platform, loaded into the local docker as ecs-scale-in-drainer:VERSION
#   make push REGISTRY=123456789012.dkr.ecr.us-west-2.amazonaws.com
#                                                builds both architectures and pushes REGISTRY/ecs-scale-in-drainer:VERSION
#                                                (one multi-architecture image, with SBOM and provenance)
#
# Before a push to Amazon ECR (private), create the repository once and log in (the token lasts 12 hours):
#   aws ecr create-repository --repository-name ecs-scale-in-drainer --region us-west-2
#   aws ecr get-login-password --region us-west-2 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.us-west-2.amazonaws.com
# Building for a platform other than the machine's needs QEMU's binfmt handlers (Docker Desktop has them; on Linux:
# docker run --privileged --rm tonistiigi/binfmt --install arm64,amd64) and a buildx builder that can export
# multi-platform images (docker buildx create --use).
include .release

PLATFORM ?= linux/amd64,linux/arm64
REGISTRY ?=
NAME ?= ecs-scale-in-drainer
TAG ?= $(version)

comma := ,
# A single platform can be loaded into the local image store; several can only be pushed (or kept in the cache).
LOAD := $(if $(findstring $(comma),$(PLATFORM)),,--load)
BUILD := docker buildx build --file drainer/Dockerfile --platform $(PLATFORM)

.PHONY: build push bundle all
.DEFAULT_GOAL := build

build:
	$(BUILD) $(LOAD) --tag $(NAME):$(TAG) .

push:
	$(if $(strip $(REGISTRY)),,$(error make push needs REGISTRY, the registry to push to, e.g. make push REGISTRY=123456789012.dkr.ecr.us-west-2.amazonaws.com (see the comment at the top of the Makefile to create the repository and log in)))
	$(if $(findstring $(dir $(repository)),$(REGISTRY)/),$(error REGISTRY=$(REGISTRY) is the project's public path: only the release workflow publishes there; push to your own registry))
	$(BUILD) --sbom=true --provenance=mode=max --push --tag $(REGISTRY)/$(NAME):$(TAG) .

# What the image builds, on this machine: dist/drainer.js.
bundle:
	npm run build

# Kept for the READMEs' `make all REGISTRY=...`: the same as make push.
all: push
