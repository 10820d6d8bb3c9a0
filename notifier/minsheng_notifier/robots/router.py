"""The group robots (企业微信, 钉钉): registered by the city office; accounts name the ones they belong to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlmodel import select

from minsheng.auth.deps import PrincipalDep
from minsheng.db import SessionDep
from minsheng.errors import Forbidden, NotFound
from minsheng_notifier.robots.models import Robot, RobotBase, RobotPublic

router = APIRouter(prefix="/api/v1/robots", tags=["工作群机器人 robots"])
CodePath = Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="机器人代码")]


def _public(robot: Robot) -> RobotPublic:
    return RobotPublic(
        code=robot.code, name=robot.name, kind=robot.kind, webhook=robot.webhook, signed=bool(robot.secret)
    )


def _city_office(principal) -> None:  # noqa: ANN001 - a Principal
    if principal.role.value != "city_office":
        raise Forbidden("工作群机器人只能由市民生办登记", code="city_office_only")


@router.get("", response_model=list[RobotPublic], summary="已登记的工作群机器人")
def list_robots(session: SessionDep, principal: PrincipalDep):
    return [_public(r) for r in session.exec(select(Robot).order_by(Robot.code))]


@router.put("/{code}", response_model=RobotPublic, summary="登记或修改工作群机器人（市民生办）")
def put_robot(session: SessionDep, principal: PrincipalDep, code: CodePath, body: RobotBase):
    _city_office(principal)
    robot = session.get(Robot, code) or Robot(code=code, **body.model_dump())
    for name, value in body.model_dump().items():
        setattr(robot, name, value)
    session.add(robot)
    session.commit()
    return _public(robot)


@router.delete("/{code}", status_code=status.HTTP_204_NO_CONTENT, summary="删除工作群机器人（市民生办）")
def delete_robot(session: SessionDep, principal: PrincipalDep, code: CodePath) -> None:
    _city_office(principal)
    robot = session.get(Robot, code)
    if robot is None:
        raise NotFound(f"机器人「{code}」未登记", code="robot_not_found")
    session.delete(robot)
    session.commit()
