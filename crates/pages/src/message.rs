//! A Discord message as the transcript reads it ([`TranscriptWriter::message`](crate::TranscriptWriter::message)):
//! only the fields the page shows, borrowed from the caller's own message type, so writing a message
//! copies no text. Ids are plain `u64` snowflakes; `None` or empty where Discord left a field out.

/// One message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message<'a> {
    /// The snowflake; it also gives the time shown. Without one the message has no anchor and shows
    /// [`timestamp`](Self::timestamp) as written.
    pub id: Option<u64>,
    /// Discord's message type: 0 default, 19 reply, 20 and 23 commands; any other is shown as one line
    /// of system text (7 member join, 6 pin, 8 boost, ...).
    pub kind: u8,
    /// `None`: the message is written as "Unreadable message".
    pub author: Option<User<'a>>,
    /// The body, Discord markdown.
    pub content: &'a str,
    /// When it was sent (ISO 8601), shown only when there is no [`id`](Self::id).
    pub timestamp: Option<&'a str>,
    /// When it was last edited (ISO 8601), if it was.
    pub edited_timestamp: Option<&'a str>,
    pub pinned: bool,
    /// The users the message mentions (names for `<@id>` that [`Names`](crate::Names) lacks).
    pub mentions: Vec<User<'a>>,
    pub attachments: Vec<Attachment<'a>>,
    pub embeds: Vec<Embed<'a>>,
    /// The names of the stickers sent with it.
    pub stickers: Vec<&'a str>,
    pub components: Vec<Component<'a>>,
    pub reactions: Vec<Reaction<'a>>,
    /// The id of the message it replies to (`message_reference.message_id`), for a jump link when the
    /// original is gone.
    pub reference_id: Option<u64>,
    /// The message it replies to, when Discord still has it. A reply shows it as a preview.
    pub referenced: Option<Box<Message<'a>>>,
    /// The interaction it answers (who used which command).
    pub interaction: Option<Interaction<'a>>,
}

/// A message's author, a mentioned user, an interaction's user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct User<'a> {
    pub id: Option<u64>,
    pub username: &'a str,
    /// The display name, when the user set one.
    pub global_name: Option<&'a str>,
    /// The avatar hash, when the user has one ([`avatar_url`](crate::avatar_url)).
    pub avatar: Option<&'a str>,
    /// Shown with an `APP` tag.
    pub bot: bool,
}

/// A file uploaded with a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attachment<'a> {
    /// `None`: shown as `file`.
    pub filename: Option<&'a str>,
    pub url: Option<&'a str>,
    pub proxy_url: Option<&'a str>,
    /// In bytes.
    pub size: Option<u64>,
    /// The declared MIME type; without one the file name's extension decides how it is shown.
    pub content_type: Option<&'a str>,
    /// The alt text.
    pub description: Option<&'a str>,
}

/// An embed (any type: `rich`, `image`, `gifv`, `link`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Embed<'a> {
    /// `None` counts as `rich`. A plain `image` or `gifv` embed (no title, no description) is shown as
    /// its media alone.
    pub kind: Option<&'a str>,
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub url: Option<&'a str>,
    /// Shown as given.
    pub timestamp: Option<&'a str>,
    /// The bar's colour, `0xRRGGBB` (0 = none).
    pub colour: Option<u32>,
    pub footer: Option<EmbedFooter<'a>>,
    pub image: Media<'a>,
    pub thumbnail: Media<'a>,
    pub video: Media<'a>,
    /// The provider's name (a link preview's site).
    pub provider: Option<&'a str>,
    pub author: Option<EmbedAuthor<'a>>,
    pub fields: Vec<EmbedField<'a>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbedFooter<'a> {
    pub text: &'a str,
    pub icon_url: Option<&'a str>,
    pub proxy_icon_url: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbedAuthor<'a> {
    pub name: &'a str,
    pub url: Option<&'a str>,
    pub icon_url: Option<&'a str>,
    pub proxy_icon_url: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbedField<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub inline: bool,
}

/// Where a picture or video is: its URL and Discord's proxy of it (both `None`: there is none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Media<'a> {
    pub url: Option<&'a str>,
    pub proxy_url: Option<&'a str>,
}

/// A reaction under a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaction<'a> {
    pub emoji: Emoji<'a>,
    /// `None` counts as 1.
    pub count: Option<u64>,
    /// Whether the transcript's bot reacted too.
    pub me: bool,
}

/// A Unicode emoji (`name` is the emoji, no id) or a custom one (an id; shown as `:name:`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Emoji<'a> {
    pub id: Option<u64>,
    pub name: &'a str,
}

/// The interaction a message answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interaction<'a> {
    /// Who used it; without a user nothing is shown.
    pub user: Option<User<'a>>,
    /// The command's name.
    pub name: Option<&'a str>,
}

/// A message component, shown as a disabled look-alike (link buttons are real links). Nesting deeper
/// than six levels is not shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Component<'a> {
    /// Type 1.
    ActionRow(Vec<Component<'a>>),
    /// Type 2.
    Button(Button<'a>),
    /// Types 3 and 5 to 8: the default option's label, else the placeholder.
    Select { placeholder: Option<&'a str>, options: Vec<SelectOption<'a>> },
    /// Type 9: components beside an accessory (a thumbnail or a button).
    Section { components: Vec<Component<'a>>, accessory: Option<Box<Component<'a>>> },
    /// Type 10: markdown text.
    TextDisplay(&'a str),
    /// Type 11.
    Thumbnail { media: Media<'a>, description: Option<&'a str> },
    /// Type 12.
    Gallery(Vec<GalleryItem<'a>>),
    /// Type 13: `url` is `attachment://{filename}` of one of the message's attachments.
    File { url: Option<&'a str> },
    /// Type 14: a line, or only space when `divider` is false.
    Separator { divider: bool },
    /// Type 17: components in a box with an accent colour (`0xRRGGBB`, 0 = none).
    Container { accent_colour: Option<u32>, components: Vec<Component<'a>> },
    /// Type 18: a label over one component.
    Label { label: &'a str, component: Option<Box<Component<'a>>> },
    /// Any other type: not shown.
    #[default]
    Other,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Button<'a> {
    /// Discord's style, 1 to 6 (5 is a link); `None` counts as 2, above 6 as 6.
    pub style: Option<u64>,
    pub label: Option<&'a str>,
    /// A link button's URL (only `http(s)` becomes a link).
    pub url: Option<&'a str>,
    pub emoji: Option<Emoji<'a>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SelectOption<'a> {
    pub label: Option<&'a str>,
    pub default: bool,
}

/// One picture or video of a gallery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GalleryItem<'a> {
    pub media: Media<'a>,
    /// The media's MIME type, if known; else the URL's extension decides (an unknown one is a picture).
    pub content_type: Option<&'a str>,
    pub description: Option<&'a str>,
}
