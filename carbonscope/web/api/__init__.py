"""The REST API under /api/v1: reads need no key."""

from fastapi import APIRouter

from carbonscope.web.api import analyses, changes, community, credits, news, passwords, projects, stats

router = APIRouter(prefix="/api/v1")
for module in (projects, credits, stats, changes, community, news, passwords, analyses):
    router.include_router(module.router)
