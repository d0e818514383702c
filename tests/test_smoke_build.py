from pypdf import PdfReader


def test_default_build_writes_booklet_and_cards(default_build):
    out, report = default_build
    assert (out / "handbook.pdf").is_file()
    assert len(PdfReader(out / "cards.pdf").pages) == len(list((out / "cards").glob("*.pdf")))
    assert report.problems == []
