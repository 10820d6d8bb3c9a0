"""What the web app needs to know about the platform it talks to (open, no sign-in)."""

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field

router = APIRouter(prefix="/api/v1", tags=["平台 platform"])


class PlatformPublic(BaseModel):
    name: str = Field(description="平台名称")
    demo_data: bool = Field(description="是否载有演示数据（本机 make run）；为真时页面标注「演示数据」")
    demo_users: bool = Field(description="是否开放演示账号")


@router.get("/platform", response_model=PlatformPublic, summary="平台信息：是否为演示数据、演示账号")
def platform(request: Request) -> PlatformPublic:
    settings = request.app.state.settings
    return PlatformPublic(
        name="淄博市高品质民生三年行动平台", demo_data=settings.demo_data, demo_users=settings.demo_users
    )


def demo_data_loading(app: FastAPI) -> list[str]:
    """Readiness: not ready while `make run` loads the demo dataset (its marker file exists), so that
    nobody is told to start before the figures are in (and races the loader's approvals)."""
    marker = app.state.settings.demo_data_loading
    return ["demo_data"] if marker is not None and marker.exists() else []
