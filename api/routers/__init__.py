from fastapi import APIRouter

from api.routers import audit, clients, config, members, profiles

ROUTERS: list[APIRouter] = [profiles.router, clients.router, members.router, config.router, audit.router]
