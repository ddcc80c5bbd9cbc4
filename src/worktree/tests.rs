use super::*;

/// A repository with one commit on `main`.
async fn repository() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().canonicalize().unwrap().join("shop");
    std::fs::create_dir(&project).unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["config", "user.email", "t@example.com"],
        &["config", "user.name", "Test"],
    ] {
        git(&project, args).await.unwrap();
    }
    std::fs::write(project.join("README.md"), "shop\n").unwrap();
    commit(&project, "first").await;
    (dir, project)
}

async fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]).await.unwrap();
    git(dir, &["commit", "-q", "-m", message]).await.unwrap();
}

const THREAD: ChannelId = ChannelId(1234);

#[test]
fn branch_names_are_tame_and_unique_per_thread() {
    assert_eq!(
        branch_name("Fix: the Cart!", THREAD),
        "thread/fix-the-cart-1234"
    );
    assert_eq!(branch_name("  ", THREAD), "thread/1234");
    assert_eq!(branch_name("ünïcode → ok", THREAD), "thread/n-code-ok-1234");
    let long = branch_name(&"a".repeat(100), THREAD);
    assert_eq!(long, format!("thread/{}-1234", "a".repeat(40)));
}

#[tokio::test]
async fn a_threads_worktree_is_made_once_on_its_own_branch_and_kept_out_of_status() {
    let (_dir, project) = repository().await;
    let made = ensure(&project, THREAD, "Fix the cart").await.unwrap();
    assert_eq!(made.path, path_of(&project, THREAD));
    assert_eq!(made.branch, "thread/fix-the-cart-1234");
    assert!(made.path.join("README.md").is_file());
    let again = ensure(&project, THREAD, "renamed since").await.unwrap();
    assert_eq!(again, made, "the same worktree, whatever the name now");
    assert_eq!(existing(&project, THREAD).await, Some(made));
    let status = git(&project, &["status", "--porcelain"]).await.unwrap();
    assert_eq!(status, "", "the worktrees folder is excluded");
}

#[tokio::test]
async fn a_clean_worktree_goes_with_its_branch_and_comes_back_fresh() {
    let (_dir, project) = repository().await;
    let made = ensure(&project, THREAD, "t").await.unwrap();
    assert_eq!(remove(&project, &made).await.unwrap(), None);
    assert!(!made.path.exists());
    let branches = git(&project, &["branch", "--list", "thread/*"])
        .await
        .unwrap();
    assert_eq!(branches, "");
    assert_eq!(existing(&project, THREAD).await, None);
    let fresh = ensure(&project, THREAD, "t").await.unwrap();
    assert!(fresh.path.join("README.md").is_file());
}

#[tokio::test]
async fn uncommitted_changes_or_unmerged_commits_keep_the_worktree() {
    let (_dir, project) = repository().await;
    let made = ensure(&project, THREAD, "t").await.unwrap();
    std::fs::write(made.path.join("new.rs"), "fn x() {}\n").unwrap();
    assert_eq!(
        remove(&project, &made).await.unwrap(),
        Some(Kept::Uncommitted(1))
    );
    commit(&made.path, "work").await;
    assert_eq!(
        remove(&project, &made).await.unwrap(),
        Some(Kept::Unpushed(1))
    );
    assert!(made.path.join("new.rs").is_file(), "nothing was lost");
    git(&project, &["merge", "-q", &made.branch]).await.unwrap();
    assert_eq!(
        remove(&project, &made).await.unwrap(),
        None,
        "merged: nothing lost"
    );
}

#[tokio::test]
async fn new_files_keep_the_worktree_even_where_status_hides_untracked_ones() {
    let (_dir, project) = repository().await;
    let config = ["config", "status.showUntrackedFiles", "no"];
    git(&project, &config).await.unwrap();
    let made = ensure(&project, THREAD, "t").await.unwrap();
    std::fs::write(made.path.join("new.rs"), "fn x() {}\n").unwrap();
    assert_eq!(
        remove(&project, &made).await.unwrap(),
        Some(Kept::Uncommitted(1))
    );
    assert!(made.path.join("new.rs").is_file(), "nothing was lost");
}

#[tokio::test]
async fn commits_made_on_a_detached_head_keep_the_worktree() {
    let (_dir, project) = repository().await;
    let made = ensure(&project, THREAD, "t").await.unwrap();
    git(&made.path, &["checkout", "-q", "--detach"])
        .await
        .unwrap();
    std::fs::write(made.path.join("new.rs"), "fn x() {}\n").unwrap();
    commit(&made.path, "detached work").await;
    assert_eq!(
        remove(&project, &made).await.unwrap(),
        Some(Kept::Unpushed(1))
    );
    assert!(made.path.join("new.rs").is_file(), "nothing was lost");
}

#[tokio::test]
async fn in_a_folder_without_git_ensure_says_why() {
    let dir = tempfile::tempdir().unwrap();
    match ensure(dir.path(), THREAD, "t").await {
        Err(GitError::Failed { stderr, .. }) => {
            assert!(stderr.contains("not a git repository"), "{stderr}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn listed_names_the_threads_with_a_worktree_folder_in_id_order() {
    let (_dir, project) = repository().await;
    assert_eq!(
        listed(&project).await,
        Vec::<ChannelId>::new(),
        "no folder yet"
    );
    ensure(&project, ChannelId(99), "b").await.unwrap();
    ensure(&project, THREAD, "a").await.unwrap();
    std::fs::create_dir(project.join(WORKTREES_DIR).join("notes")).unwrap();
    assert_eq!(listed(&project).await, vec![ChannelId(99), THREAD]);
}
