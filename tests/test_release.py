import json

from course_lib import release, student


def _notebook():
    return {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# 05 · Transformations\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["# NBVAL_SKIP\n", "import sys\n", "\n", 'if "google.colab" in sys.modules:\n',
                    '    %pip install -q "course_lib @ git+https://github.com/X/Y.git"']},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["# BEGIN SOLUTION\n", "x = 1\n", "# END SOLUTION"]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _course(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "05_x.ipynb").write_text(json.dumps(_notebook()))
    return tmp_path


def test_stamp_points_the_install_cell_and_badge_at_the_release(tmp_path):
    course = _course(tmp_path)
    release.stamp("someone/ssl-course", "v1.0", course)
    notebook = json.loads((course / "notebooks" / "05_x.ipynb").read_text())
    install, title = "".join(notebook["cells"][1]["source"]), "".join(notebook["cells"][0]["source"])
    assert 'git+https://github.com/someone/ssl-course.git@v1.0"' in install and release.INSTALL_MARK in install
    assert "colab.research.google.com/github/someone/ssl-course/blob/v1.0/notebooks/05_x.ipynb" in title
    assert title.endswith("# 05 · Transformations\n")
    assert release.read(course) == {"repo": "someone/ssl-course", "ref": "v1.0", "weights": {}}


def test_stamping_twice_replaces_rather_than_adds(tmp_path):
    course = _course(tmp_path)
    release.stamp("a/b", "v1", course)
    release.stamp("a/b", "v2", course)
    notebook = json.loads((course / "notebooks" / "05_x.ipynb").read_text())
    title = "".join(notebook["cells"][0]["source"])
    assert title.count(release.BADGE_START) == 1 and "/v2/" in title and "/v1/" not in title


def test_student_copies_are_rebuilt_with_their_own_badge(tmp_path):
    course = _course(tmp_path)
    release.stamp("a/b", "v1", course)
    student.build(course / "notebooks", course / "student")
    copy = json.loads((course / "student" / "05_x.ipynb").read_text())
    assert "blob/v1/student/05_x.ipynb" in "".join(copy["cells"][0]["source"])
    assert "NotImplementedError" in "".join(copy["cells"][2]["source"])
    assert student.build(course / "notebooks", course / "student", check=True) == []


def test_a_local_address_installs_from_it_and_draws_no_badge(tmp_path):
    cell = release.install_source("file:///srv/course", "main")
    assert '%pip install -q "course_lib @ git+file://localhost/srv/course@main"' in cell
    assert release.badge("file:///srv/course", "main", "notebooks/05_x.ipynb") == (
        release.BADGE_START + release.BADGE_END)


def test_an_unstamped_course_says_so_on_colab_instead_of_installing():
    cell = release.install_source("", "")
    assert "%pip" not in cell and "no release address yet" in cell


def test_a_weights_archive_is_recorded_with_its_release_asset_address_and_checksum(tmp_path):
    import hashlib

    archive = tmp_path / "course-weights-lab.tar.gz"
    archive.write_bytes(b"weights")
    profile, entry = release.weights_entry(archive, "a/b", "v1")
    assert profile == "lab" and entry["sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert entry["url"] == "https://github.com/a/b/releases/download/v1/course-weights-lab.tar.gz"
    assert release.weights_entry(archive, "a/b", "v1", "http://127.0.0.1:8000/w.tar.gz")[1]["url"].startswith("http://127")
