"""Japanese UI copy, applied to locale/ja/LC_MESSAGES/django.po by
``python locale/ja_translations.py`` after ``makemessages``. Keeping the copy in one
reviewed table lets a translator read it without the .po noise; the test suite fails
if any msgid of the catalog has no translation."""

from __future__ import annotations

JA: dict[tuple[str | None, str], str] = {
    (None, "Billing"): "請求",
    ("role", "Billing"): "請求担当",
    (None, "Mail operations"): "メール運用",
    (None, "Japanese"): "日本語",
    (None, "English"): "英語",
    (None, "Filter"): "絞り込み",
    (None, "Time"): "日時",
    (None, "Actor"): "操作者",
    (None, "Action"): "操作",
    (None, "Target"): "対象",
    (None, "Change"): "変更内容",
    (None, "IP address"): "IP アドレス",
    (None, "No events match."): "該当する記録はありません。",
    (None, "Pages"): "ページ",
    (None, "Previous"): "前へ",
    (None, "Page %(n)s of %(total)s"): "%(n)s / %(total)s ページ",
    (None, "Next"): "次へ",
    (None, "Audit log"): "監査ログ",
    (
        None,
        "Every change in this portal, who made it and from where. Entries cannot be edited or deleted.",
    ): "このポータルで行われたすべての変更と、操作者・接続元を記録しています。記録は編集・削除できません。",
    (None, "Accept invitation"): "招待の承諾",
    (
        None,
        "Create your account for %(email)s (role: %(role)s).",
    ): "%(email)s のアカウントを作成します（ロール: %(role)s）。",
    (None, "Create account"): "アカウントを作成",
    (None, "Invitation no longer valid"): "この招待は無効です",
    (
        None,
        "This invitation has expired or was already used. Ask for a new one.",
    ): "この招待は有効期限切れか、すでに使用されています。管理者に再度の招待を依頼してください。",
    (None, "Members"): "メンバー",
    (None, "Name"): "氏名",
    (None, "Email address"): "メールアドレス",
    (None, "Role"): "ロール",
    (None, "Actions"): "操作",
    (None, "Change role"): "ロールを変更",
    (None, "Remove"): "削除",
    (None, "Open invitations"): "承諾待ちの招待",
    (None, "Expires"): "有効期限",
    (None, "Revoke"): "取り消す",
    (None, "Invite a member"): "メンバーを招待",
    (None, "Send invitation"): "招待メールを送信",
    (None, "Skip to content"): "本文へ移動",
    (None, "MSP console"): "MSP 管理コンソール",
    (None, "Main"): "メイン",
    (None, "Tenants"): "テナント",
    (None, "Dashboard"): "ダッシュボード",
    (None, "Language"): "言語",
    (None, "Change password"): "パスワードの変更",
    (None, "Two-factor authentication"): "二要素認証",
    (None, "Email addresses"): "メールアドレス設定",
    (None, "Sign out"): "サインアウト",
    (None, "Sign in"): "サインイン",
    (
        None,
        "Managed mail for Azure Communication Services",
    ): "Azure Communication Services のマネージドメール",
    (
        None,
        "You have been invited to the mail portal of %(tenant_name)s as %(role)s.",
    ): "%(tenant_name)s のメールポータルに「%(role)s」として招待されました。",
    (None, "Invited by: %(inviter)s"): "招待者: %(inviter)s",
    (None, "Create your account"): "アカウントを作成する",
    (
        None,
        "The link is valid until %(date)s.",
    ): "このリンクの有効期限は %(date)s です。",
    (
        None,
        "If you did not expect this invitation, you can ignore this message.",
    ): "お心当たりのない場合は、このメールを破棄してください。",
    (
        None,
        "Open this link to create your account:",
    ): "次のリンクからアカウントを作成してください:",
    (
        None,
        "Invitation to the %(tenant_name)s mail portal",
    ): "%(tenant_name)s メールポータルへのご招待",
    (
        None,
        "Welcome to the mail portal of %(name)s.",
    ): "%(name)s のメールポータルへようこそ。",
    (None, "Your account"): "アカウント",
    (None, "Plan"): "プラン",
    (None, "Customer since"): "ご利用開始日",
    (None, "Getting started"): "はじめに",
    (
        None,
        "Invite your colleagues and give each a role.",
    ): "同僚を招待し、それぞれにロールを割り当てます。",
    (
        None,
        "Add your sending domain and publish its DNS records.",
    ): "送信ドメインを追加し、DNS レコードを登録します。",
    (
        None,
        "Create SMTP credentials for printers and applications.",
    ): "複合機や業務アプリ用の SMTP 認証情報を作成します。",
    (None, "Manage members"): "メンバーを管理",
    (None, "Welcome"): "ようこそ",
    (
        None,
        "Keep multifunction printers, business applications and customer notices sending after Exchange Online retires SMTP basic authentication. Each customer company has its own portal.",
    ): "Exchange Online の SMTP 基本認証が廃止された後も、複合機・業務アプリ・お客様へのお知らせメールを送り続けられます。お客様の会社ごとに専用のポータルがあります。",
    (
        None,
        "Customer administrators: open your company's portal address (for example sakura.localhost).",
    ): "お客様の管理者の方は、自社のポータルのアドレス（例: sakura.localhost）を開いてください。",
    (None, "MSP staff sign-in"): "MSP スタッフのサインイン",
    (None, "Staff audit log"): "スタッフ監査ログ",
    (
        None,
        "Actions taken by MSP staff on the tenant registry.",
    ): "MSP スタッフによるテナント管理操作の記録です。",
    (None, "Portal suspended"): "ポータル停止中",
    (None, "This portal is suspended"): "このポータルは一時停止されています",
    (
        None,
        "The portal of %(name)s is temporarily unavailable. Your data and settings are kept. Please contact your service provider.",
    ): "%(name)s のポータルは現在ご利用いただけません。データと設定はそのまま保持されています。ご契約のサービス提供元にお問い合わせください。",
    (None, "New tenant"): "テナントの新規作成",
    (
        None,
        "Creates the customer's portal and sends an invitation to its first owner. If any step fails, nothing is created.",
    ): "お客様のポータルを作成し、最初のオーナーに招待メールを送ります。途中で失敗した場合は何も作成されません。",
    (None, "Create tenant"): "テナントを作成",
    (None, "Contract"): "契約情報",
    (None, "Identifier"): "識別子",
    (None, "Billing contact"): "請求先担当者",
    (None, "Corporate number"): "法人番号",
    (None, "Created"): "作成日",
    (None, "Status"): "状態",
    (None, "Suspend portal"): "ポータルを停止",
    (None, "Reason"): "理由",
    (None, "Resume portal"): "ポータルを再開",
    (None, "invited"): "招待中",
    (None, "Recent activity in the portal"): "ポータル内の最近の操作",
    (None, "Staff actions"): "スタッフの操作",
    (None, "Search"): "検索",
    (None, "All"): "すべて",
    (None, "Active"): "利用中",
    (None, "Suspended"): "停止中",
    (None, "Company"): "会社名",
    (None, "Host"): "ホスト",
    (None, "No tenants match."): "該当するテナントはありません。",
    (None, "Accounts"): "アカウント",
    (None, "Your name"): "氏名",
    (None, "Password"): "パスワード",
    (None, "Password (again)"): "パスワード（確認）",
    (None, "The two passwords differ."): "2 つのパスワードが一致しません。",
    (None, "From"): "開始日",
    (None, "To"): "終了日",
    (None, "email address"): "メールアドレス",
    (None, "name"): "氏名",
    (None, "role"): "ロール",
    (None, "active"): "有効",
    (None, "MSP staff"): "MSP スタッフ",
    (None, "joined"): "登録日",
    (None, "language"): "言語",
    (None, "user"): "ユーザー",
    (None, "users"): "ユーザー",
    (None, "expires"): "有効期限",
    (None, "Owner"): "オーナー",
    (None, "Administrator"): "管理者",
    (None, "Viewer"): "閲覧者",
    (None, "Your role does not allow this action."): "この操作を行う権限がありません。",
    (None, "You cannot give this role."): "このロールを割り当てる権限がありません。",
    (None, "Unknown role."): "不明なロールです。",
    (None, "This address is already a member."): "このアドレスはすでにメンバーです。",
    (
        None,
        "An invitation to this address is still open.",
    ): "このアドレスへの招待はまだ有効です。",
    (None, "This invitation is no longer open."): "この招待はすでに終了しています。",
    (
        None,
        "The last owner cannot be changed or removed.",
    ): "最後のオーナーは変更・削除できません。先に別のオーナーを追加してください。",
    (
        None,
        "You cannot remove a member with this role.",
    ): "このロールのメンバーを削除する権限がありません。",
    (None, "Invitation sent to %(email)s."): "%(email)s に招待メールを送信しました。",
    (None, "Choose a valid role."): "有効なロールを選んでください。",
    (None, "Role updated."): "ロールを変更しました。",
    (None, "%(email)s was removed."): "%(email)s を削除しました。",
    (None, "Invitation revoked."): "招待を取り消しました。",
    (
        None,
        "Welcome! Your account is ready.",
    ): "ようこそ。アカウントの準備ができました。",
    (None, "Company name"): "会社名",
    (None, "Identifier (host name)"): "識別子（ホスト名）",
    (
        None,
        "Used in the portal address: <identifier>.%(domain)s",
    ): "ポータルのアドレスに使われます: <識別子>.%(domain)s",
    (None, "Owner's email address"): "オーナーのメールアドレス",
    (None, "Billing contact email"): "請求先メールアドレス",
    (None, "Corporate number (13 digits)"): "法人番号（13 桁）",
    (
        None,
        "Use 3–32 characters: lower-case letters, digits and hyphens, starting with a letter.",
    ): "英小文字・数字・ハイフンの 3〜32 文字で、英小文字で始めてください。",
    (None, "Template"): "テンプレート",
    (None, "Lite"): "ライト",
    (None, "Standard"): "スタンダード",
    (None, "Premium"): "プレミアム",
    (None, "display name"): "表示名",
    (None, "status"): "状態",
    (None, "plan"): "プラン",
    (None, "billing contact"): "請求先担当者",
    (None, "billing contact email"): "請求先メールアドレス",
    (None, "corporate number"): "法人番号",
    (None, "Enter 13 digits."): "13 桁の数字を入力してください。",
    (None, "suspension reason"): "停止理由",
    (None, "created"): "作成日時",
    (None, "updated"): "更新日時",
    (None, "tenant"): "テナント",
    (None, "tenants"): "テナント",
    (None, "domain"): "ドメイン",
    (None, "domains"): "ドメイン",
    (
        None,
        "This identifier is reserved.",
    ): "この識別子は予約されているため使えません。",
    (None, "Enter the company name."): "会社名を入力してください。",
    (None, "Enter a valid email address."): "有効なメールアドレスを入力してください。",
    (None, "This identifier is already in use."): "この識別子はすでに使われています。",
    (None, "This tenant cannot be changed."): "このテナントは変更できません。",
    (
        None,
        "Tenant %(name)s was created and %(email)s was invited as owner.",
    ): "テナント「%(name)s」を作成し、%(email)s をオーナーとして招待しました。",
    (None, "Enter the reason for the suspension."): "停止の理由を入力してください。",
    (
        None,
        "The tenant was suspended. Its data is kept.",
    ): "テナントを停止しました。データは保持されています。",
    (None, "The tenant was resumed."): "テナントを再開しました。",
    (None, "Sign In"): "ログイン",
    (None, "Sign in with a passkey"): "パスキーでログイン",
    (None, "Send me a sign-in code"): "ログインコードを送信する",
    (
        None,
        "Accounts are created by invitation from your administrator.",
    ): "アカウントは管理者からの招待で作成されます。",
}


def apply(path: str = "locale/ja/LC_MESSAGES/django.po") -> list[str]:
    """Fill the catalog from JA; return the msgids still missing a translation."""
    import polib

    po = polib.pofile(path)
    missing = []
    for entry in po:
        key = (entry.msgctxt, entry.msgid)
        if key in JA:
            entry.msgstr = JA[key]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        elif not entry.msgstr:
            missing.append(entry.msgid)
    po.metadata["Language"] = "ja"
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.save(path)
    return missing


if __name__ == "__main__":
    for msgid in apply():
        print("MISSING:", msgid)  # noqa: T201
