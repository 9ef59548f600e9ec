import logging

from common.logs import get_logger


def test_lines_go_to_the_current_stdout_with_the_prefix(capsys):
    log = get_logger("unit")
    assert get_logger("unit") is log and len(log.handlers) == 1  # configured once
    log.info("loaded x")
    log.debug("not shown")
    assert capsys.readouterr().out == "[unit] loaded x\n"
    logging.getLogger("rgb3d.unit").setLevel(logging.WARNING)  # silenced like any logging output
    log.info("quiet")
    assert capsys.readouterr().out == ""
    log.setLevel(logging.INFO)
