# Builds, tags and pushes the drainer image named in .release.
#   make all                          build, tag and push $(repository):$(version) and :latest
#   make all repository=ACCOUNT.dkr.ecr.REGION.amazonaws.com/drainer   to your own registry
include .release

IMAGE := $(repository):$(version)
LATEST := $(repository):latest

.PHONY: all build tag push bundle

all: build tag push

bundle:
	npm run build

build:
	docker build --file drainer/Dockerfile --tag $(IMAGE) .

tag:
	docker tag $(IMAGE) $(LATEST)

push:
	docker push $(IMAGE)
	docker push $(LATEST)
