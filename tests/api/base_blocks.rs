//! The blocks `base.html` gives an embedder's templates (issue 31): `head` inside `<head>` after
//! orgs' stylesheet, `nav_extra` in both navigations (the wide one and the phone menu),
//! `scripts` just before `</body>`, beside `title` and `content`.

use tera::Context;

const CHILD: &str = r#"{% extends "base.html" %}
{% block title %}Child title{% endblock title %}
{% block head %}<link rel="stylesheet" href="/embed.css">{% endblock head %}
{% block nav_extra %}<a href="/help/">Help & support</a>{% endblock nav_extra %}
{% block content %}<p>Child content</p>{% endblock content %}
{% block scripts %}<script src="/embed.js" defer></script>{% endblock scripts %}"#;

/// `template` rendered over orgs' templates, with a signed-in user on a tenant page.
fn render(template: &str) -> String {
    let tera = orgs::templates::load_with(&[("child.html".into(), template.into())]).unwrap();
    let mut context = Context::new();
    context.insert(
        "user",
        &serde_json::json!({"name": "Ada", "email": "ada@acme.test"}),
    );
    context.insert(
        "organization",
        &serde_json::json!({"name": "Acme", "slug": "acme"}),
    );
    context.insert("root", "/o/acme");
    context.insert("can", &Vec::<&str>::new());
    context.insert("csrf_token", "token");
    tera.render("child.html", &context).unwrap()
}

#[test]
fn an_embedders_template_fills_the_head_nav_extra_and_scripts_blocks_of_base_html() {
    let page = render(CHILD);
    let head = &page[..page.find("</head>").unwrap()];
    let stylesheet = head.find("/static/app.css").unwrap();
    let theirs = head.find(r#"<link rel="stylesheet" href="/embed.css">"#);
    assert!(
        theirs.is_some_and(|at| at > stylesheet),
        "after orgs' own: {page}"
    );
    assert!(head.contains("<title>Child title</title>"), "{page}");

    let help = r#"<a href="/help/">Help & support</a>"#;
    assert_eq!(
        page.matches(help).count(),
        2,
        "unescaped, in both navigations: {page}"
    );
    for nav in page.split("<nav ").skip(1) {
        let nav = &nav[..nav.find("</nav>").unwrap()];
        assert!(nav.contains(help), "{nav}");
        assert!(
            nav.contains(r#"<a href="/o/acme/people/">People</a>"#),
            "{nav}"
        );
    }

    let script = r#"<script src="/embed.js" defer></script>"#;
    let at = page.find(script).unwrap();
    assert!(at > page.find("</footer>").unwrap(), "{page}");
    let after = page[at + script.len()..].trim_start();
    assert!(after.starts_with("</body>"), "{page}");
    assert!(page.contains("<p>Child content</p>"), "{page}");
}

#[test]
fn a_template_that_fills_no_block_leaves_no_trace_of_them() {
    let page =
        render(r#"{% extends "base.html" %}{% block content %}<p>Plain</p>{% endblock content %}"#);
    assert!(page.contains("<p>Plain</p>"), "{page}");
    let navs: Vec<&str> = page.split("<nav ").skip(1).collect();
    assert_eq!(navs.len(), 2, "{page}");
    let tail = &page[page.find("</footer>").unwrap() + "</footer>".len()..];
    assert_eq!(
        tail.split_whitespace().collect::<String>(),
        "</body></html>"
    );
}
