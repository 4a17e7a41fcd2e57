"""The REST API under /api/v1: reads need no key."""

from fastapi import APIRouter

from carbonscope.web.api import changes, community, credits, news, projects, stats

router = APIRouter(prefix="/api/v1")
for module in (projects, credits, stats, changes, community, news):
    router.include_router(module.router)
